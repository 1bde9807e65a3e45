import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Gives every request an id — the caller's `X-Request-Id` when it is a sane token, else a new
/// one — puts it on the response and on every log line of the request, and logs the request.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = SluiceRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let given = request.headers[.requestID].flatMap { Self.isSane($0) ? $0 : nil }
        context.requestID = given ?? "req_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(20).lowercased()
        context.logger[metadataKey: "request_id"] = .string(context.requestID)
        let started = ContinuousClock.now
        var response = try await next(request, context)
        response.headers[.requestID] = context.requestID
        // No answer is to be read as another type than it says (an uploaded file as HTML, say).
        response.headers[.xContentTypeOptions] = "nosniff"
        let elapsed = ContinuousClock.now - started
        context.logger.info(
            "request",
            metadata: [
                "method": .string(request.method.rawValue), "path": .string(request.uri.path),
                "status": .stringConvertible(response.status.code),
                "ms": .stringConvertible(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000),
            ])
        return response
    }

    static func isSane(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 64
            && id.utf8.allSatisfy { $0 < 128 && (isalnum(Int32($0)) != 0 || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E) }
    }
}
