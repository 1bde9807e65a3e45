import Foundation
import NIOCore
import NIOHTTP1
public import SluiceCore
import SluiceWire

/// OpenAI's batch API, as every server that speaks it (a second Sluice too): the calls go up
/// as a JSONL file (`POST /files`, purpose `batch`), a batch is made of it (`POST /batches`,
/// 24-hour window), polled (`GET /batches/{id}`), and its output and error files read
/// (`GET /files/{id}/content`), one line per call under its `custom_id`.
struct OpenAIBatchAPI: BatchAPI {
    let provider: OpenAICompatibleProvider

    /// OpenAI's limits on one batch: 50,000 requests, a 200 MB input file.
    let maxRequests = 50_000
    let maxBytes = 200_000_000

    var headers: [(String, String)] { provider.endpoint.apiKey.map { [("Authorization", "Bearer \($0)")] } ?? [] }

    func line(_ call: BatchCall) -> String {
        let body: JSONValue
        if case .embeddings(let texts) = call.request.operation {
            body = WireEncoder.encode(EmbeddingsRequest(texts: texts, request: call.request))
        } else {
            body = OpenAICompatibleProvider.chatBody(call.request, extras: provider.extras.batchExtras(for: call.request))
        }
        return JSONWriter.string([
            "custom_id": .string(call.customID), "method": "POST", "url": .string(call.openAIEndpoint), "body": body,
        ])
    }

    func size(of call: BatchCall) -> Int { line(call).utf8.count + 1 }

    func submit(_ calls: [BatchCall], label: String) async throws(ProviderFailure) -> String {
        try await provider.extras.submitBatch(calls, provider: provider.name) { () async throws(ProviderFailure) -> String in
            try await upload(calls, label: label)
        }
    }

    /// One attempt at submitting: the file, then the batch made of it.
    func upload(_ calls: [BatchCall], label: String) async throws(ProviderFailure) -> String {
        guard let first = calls.first else { throw .rejected("an upstream batch needs at least one call") }
        var file = ByteBuffer()
        for call in calls {
            file.writeString(line(call))
            file.writeString("\n")
        }
        let boundary = "sluice-\(UUID().uuidString)"
        var body = ByteBuffer()
        body.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n")
        body.writeString(
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(label).jsonl\"\r\n"
                + "Content-Type: application/jsonl\r\n\r\n")
        body.writeBuffer(&file)
        body.writeString("\r\n--\(boundary)--\r\n")
        let uploaded = try await json(
            provider.endpoint.send(
                .POST, "/files", headers: headers + [("Content-Type", "multipart/form-data; boundary=\(boundary)")], body: body))
        guard let fileID = uploaded["id"]?.stringValue else { throw .transient("the file upload's reply has no id") }
        let request: JSONValue = [
            "input_file_id": .string(fileID), "endpoint": .string(first.openAIEndpoint), "completion_window": "24h",
            "metadata": ["sluice_batch": .string(label)],
        ]
        let created = try await json(
            provider.endpoint.send(
                .POST, "/batches", headers: headers + [("Content-Type", "application/json")],
                body: ByteBuffer(string: JSONWriter.string(request))))
        guard let id = created["id"]?.stringValue else { throw .transient("the batch's reply has no id") }
        return id
    }

    func state(of id: String) async throws(ProviderFailure) -> UpstreamState {
        let batch = try await json(provider.endpoint.send(.GET, "/batches/\(Self.escaped(id))", headers: headers))
        switch batch["status"]?.stringValue {
        case "completed"?, "expired"?, "cancelled"?: return .ended
        case "failed"?:
            // Each reason names the parameter it refuses, when it says.
            let reasons =
                batch["errors"]?["data"]?.arrayValue?.compactMap { error in
                    error["message"]?.stringValue.map { message in error["param"]?.stringValue.map { "\($0): \(message)" } ?? message }
                } ?? []
            return .failed(reasons.isEmpty ? "the provider failed the batch" : reasons.prefix(3).joined(separator: "; "))
        case "validating"?, "in_progress"?, "finalizing"?, "cancelling"?: return .running
        case let other: throw .transient("the batch's status is not one OpenAI has: \(other ?? "none")")
        }
    }

    func results(of id: String, calls: [String: ModelRequest]) async throws(ProviderFailure)
        -> [String: Result<ModelReply, ProviderFailure>]
    {
        let batch = try await json(provider.endpoint.send(.GET, "/batches/\(Self.escaped(id))", headers: headers))
        var results: [String: Result<ModelReply, ProviderFailure>] = [:]
        for key in ["output_file_id", "error_file_id"] {
            guard let file = batch[key]?.stringValue else { continue }
            let text = try await provider.endpoint.send(.GET, "/files/\(Self.escaped(file))/content", headers: headers)
            for line in text.split(whereSeparator: \.isNewline) {
                guard let entry = try? JSONParser.parse(line.utf8), let customID = entry["custom_id"]?.stringValue,
                    let request = calls[customID], !Self.neverRan(entry)
                else { continue }
                results[customID] = Self.result(of: entry, request: request, extras: provider.extras.batchExtras(for: request))
            }
        }
        return results
    }

    /// A line for a call the batch never ran (it expired, or was cancelled first): no result —
    /// the call goes again, its attempt unspent.
    static func neverRan(_ entry: JSONValue) -> Bool {
        let code = entry["error"]?["code"]?.stringValue
        return code == "batch_expired" || code == "batch_cancelled"
    }

    /// One output or error line's result: the reply, or the failure its status or error says.
    static func result(of entry: JSONValue, request: ModelRequest, extras: CallExtras) -> Result<ModelReply, ProviderFailure> {
        let response = entry["response"]
        let status = response?["status_code"]?.intValue
        guard let status, (200..<300).contains(status), let body = response?["body"] else {
            let error = entry["error"] ?? response?["body"]?["error"]
            let message = error?["message"]?.stringValue ?? "the batch returned no reply"
            let code = error?["code"]?.stringValue
            guard let status else { return .failure(.transient("the upstream batch gave no reply: \(message)")) }
            return .failure(ProviderFailure.classify(status: status, message: message, code: code, signal: RateLimitSignal()))
        }
        do throws(ProviderFailure) {
            if case .embeddings(let texts) = request.operation {
                return .success(try OpenAICompatibleProvider.embeddingsReply(body, texts: texts, request: request, signal: nil))
            }
            return .success(
                ExtraParameters.restored(
                    try OpenAICompatibleProvider.chatReply(body, request: request, signal: nil), extras: extras, request: request))
        } catch {
            return .failure(error)
        }
    }

    func cancel(_ id: String) async throws(ProviderFailure) {
        _ = try await provider.endpoint.send(.POST, "/batches/\(Self.escaped(id))/cancel", headers: headers)
    }

    /// An id as one path segment: an upstream's ids are its own, not to be trusted as paths.
    static func escaped(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_."))) ?? id
    }
}

extension OpenAICompatibleProvider: BatchingProvider {
    public var batchAPI: any BatchAPI { OpenAIBatchAPI(provider: self) }
}
