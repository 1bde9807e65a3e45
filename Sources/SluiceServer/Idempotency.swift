import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import SluiceCore
import SluiceStore

/// `Idempotency-Key` on the creates (`POST /v1/jobs`, `/v1/files`, `/v1/batches`): a retried
/// create answers what the first one did instead of creating again, and the same key with a
/// different request is `409`. Keys are the caller's own and last a day (``Housekeeper``).
///
/// The request is received first (a retry sends its body again anyway) so that it is compared
/// by what it carries — for an upload its fields and files' digests, not the multipart boundary
/// that differs on every send.
enum Idempotency {
    static let header = HTTPField.Name("Idempotency-Key")!
    static let replayedHeader = HTTPField.Name("Idempotent-Replayed")!
    /// A claim whose request never finished (its process died) is given up after this long.
    static let abandonedAfter = 600.0

    /// What a create answered, as kept for its retries.
    struct Answer {
        var body: JSONValue
        var status: HTTPResponse.Status = .ok
        var location: String?

        var response: Response {
            Response.json(body, status: status, headers: location.map { [.location: $0] } ?? [:])
        }

        var stored: String {
            JSONWriter.string(["status": .int(status.code), "location": location.map(JSONValue.string) ?? .null, "body": body])
        }

        init(body: JSONValue, status: HTTPResponse.Status = .ok, location: String? = nil) {
            self.body = body
            self.status = status
            self.location = location
        }

        init?(stored: String) {
            guard let value = try? JSONParser.parse(stored), let code = value["status"]?.intValue, let body = value["body"] else {
                return nil
            }
            self.init(body: body, status: HTTPResponse.Status(code: code), location: value["location"]?.stringValue)
        }
    }

    /// The request's key, if it sent one: 1 to 255 printable ASCII characters.
    static func key(of request: Request) throws -> String? {
        guard let key = request.headers[header] else { return nil }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7e).contains($0) }) else {
            throw APIError.badRequest("Idempotency-Key must be 1 to 255 printable ASCII characters without spaces")
        }
        return key
    }

    /// Runs `create` once per key: the first request with a key runs it and keeps its answer;
    /// a retry with the same `fingerprint` gets that answer (and `Idempotent-Replayed: true`)
    /// after `discard` drops what the retry received; anything else with the key is `409`.
    /// Without a key, `create` simply runs.
    static func once(
        _ request: Request, caller: Principal, route: String, fingerprint: String, store: any IdempotencyStore, clock: any SluiceClock,
        discard: () async -> Void,
        create: () async throws -> Answer
    ) async throws -> Response {
        guard let key = try key(of: request) else { return try await create().response }
        let now = clock.now()
        switch try await store.claimIdempotencyKey(
            owner: caller.user, key: key, route: route, abandonedBefore: now.addingTimeInterval(-abandonedAfter), now: now)
        {
        case .claimed:
            let answer: Answer
            do {
                answer = try await create()
            } catch {
                // A refused or failed create keeps nothing: its retry runs afresh.
                try? await store.releaseIdempotencyKey(owner: caller.user, key: key)
                throw error
            }
            try await store.completeIdempotencyKey(owner: caller.user, key: key, fingerprint: fingerprint, response: answer.stored)
            return answer.response
        case .inProgress:
            await discard()
            throw APIError(
                .conflict, code: "idempotency_key_in_use", "a request with this Idempotency-Key is still in progress; retry later")
        case .completed(let firstRoute, let firstFingerprint, let stored):
            await discard()
            guard firstRoute == route, firstFingerprint == fingerprint else {
                throw APIError(
                    .conflict, code: "idempotency_key_reused",
                    "this Idempotency-Key was used with a different request (\(firstRoute)); use a new key for a new request")
            }
            guard let answer = Answer(stored: stored) else { throw StoreError.corrupt("the answer kept for an idempotency key") }
            var response = answer.response
            response.headers[replayedHeader] = "true"
            return response
        }
    }

    /// SHA-256 in hex.
    static func digest(_ text: String) -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
