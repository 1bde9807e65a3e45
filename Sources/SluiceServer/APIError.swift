import Foundation
public import HTTPTypes
public import Hummingbird
import Logging
import NIOCore
public import SluiceCore
import SluiceStorage
import SluiceStore

/// An error the API answers with: an HTTP status and `{"error": {"code", "message"}}`.
///
/// The body also carries OpenAI's `type` and `param`, so the OpenAI SDK reports it the same
/// way it reports OpenAI's own errors.
public struct APIError: Error, HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var param: String?
    /// The request a failure happened in, so a client can quote it to the operator.
    public var requestID: String?
    /// Extra response headers (`Retry-After`, `WWW-Authenticate`).
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, code: String, _ message: String, param: String? = nil, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.param = param
        self.headers = headers
    }

    public var body: JSONValue {
        var error = JSONObject()
        error["code"] = .string(code)
        error["message"] = .string(message)
        error["type"] = .string(status.code >= 500 ? "server_error" : "invalid_request_error")
        error["param"] = param.map(JSONValue.string) ?? .null
        if let requestID { error["request_id"] = .string(requestID) }
        return ["error": .object(error)]
    }

    /// Anthropic's shape, which the Message Batches routes answer in so the Anthropic SDK reads
    /// their errors as its own: `{"type": "error", "error": {"type", "message"}}`.
    public var anthropicBody: JSONValue {
        let type: String
        switch status.code {
        case 401: type = "authentication_error"
        case 403: type = "permission_error"
        case 404: type = "not_found_error"
        case 413: type = "request_too_large"
        case 429: type = "rate_limit_error"
        case 503, 529: type = "overloaded_error"
        case 500...: type = "api_error"
        default: type = "invalid_request_error"
        }
        var object = JSONObject([("type", "error"), ("error", ["type": .string(type), "message": .string(message)])])
        if let requestID { object["request_id"] = .string(requestID) }
        return .object(object)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let anthropic = request.uri.path.hasPrefix(MessageBatchRoutes.pathPrefix)
        var response = Response.json(anthropic ? anthropicBody : body, status: status)
        response.headers.append(contentsOf: headers)
        return response
    }

    static func notFound(_ what: String) -> APIError { APIError(.notFound, code: "not_found", "\(what) not found") }
    static func badRequest(_ message: String, param: String? = nil) -> APIError {
        APIError(.badRequest, code: "invalid_request", message, param: param)
    }
    static func conflict(_ message: String) -> APIError { APIError(.conflict, code: "conflict", message) }
    static func tooLarge(limit: Int) -> APIError {
        APIError(.contentTooLarge, code: "upload_too_large", "the upload is larger than the limit of \(limit) bytes")
    }
}

extension Response {
    /// A JSON response from Sluice's own JSON model, which keeps member order.
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: JSONWriter.bytes(value))))
    }
}

extension APIError {
    /// The one place an error becomes what a client is told, for the API and the pages alike.
    ///
    /// A refusal (4xx) is the client's to read and is said as it is. A failure (5xx) is the
    /// server's: the client hears only that something failed and the request id, and the detail
    /// — a driver's text with its SQL, a file path, a stack — goes to the log under that id.
    static func answering(_ error: any Error, context: SluiceRequestContext) -> APIError {
        let answer: APIError
        switch error {
        case let error as APIError: answer = error
        case let error as HTTPError:
            let code: String
            switch error.status {
            case .methodNotAllowed: code = "method_not_allowed"
            case .contentTooLarge: code = "upload_too_large"
            case .unsupportedMediaType: code = "unsupported_media_type"
            default: code = error.status.code >= 500 ? "server_error" : "invalid_request"
            }
            answer = APIError(error.status, code: code, error.body ?? error.status.reasonPhrase, headers: error.headers)
        case let error as NIOTooManyBytesError:
            // A body read whole (JSON, a form) past its route's limit: the client's to fix.
            answer = APIError(
                .contentTooLarge, code: "body_too_large",
                "the request body is larger than this route's limit\(error.maxBytes.map { " of \($0) bytes" } ?? "")")
        case let error as StoreError: answer = APIError(store: error)
        case is StorageError: answer = APIError(.serviceUnavailable, code: "storage_unavailable", "")
        default: answer = APIError(.internalServerError, code: "server_error", "")
        }
        guard answer.status.code >= 500 else { return answer }
        var metadata: Logger.Metadata = ["error": "\(error)", "status": "\(answer.status.code)"]
        if let driver = (error as? StoreError)?.driverError { metadata["driver"] = "\(driver)" }
        context.logger.error("request failed", metadata: metadata)
        var failure = answer
        let summary =
            answer.status == .serviceUnavailable
            ? "the service is unavailable for the moment; try again shortly" : "the request failed on the server"
        failure.message = "\(summary) (request \(context.requestID); the server's log has the details)"
        failure.requestID = context.requestID
        return failure
    }

    /// What a client is told of a store failure: busy (try again), a conflict, or unavailable.
    init(store error: StoreError) {
        switch error {
        case .jobNotFound(let id): self = APIError.notFound("job \(id)")
        case .invalidTransition: self = APIError.conflict(error.description)
        case .conflict: self = APIError(.conflict, code: "conflict", error.description)
        case .retryable: self = APIError(.serviceUnavailable, code: "database_busy", "", headers: [.retryAfter: "1"])
        case .notReady, .failed: self = APIError(.serviceUnavailable, code: "database_unavailable", "")
        case .corrupt: self = APIError(.internalServerError, code: "server_error", "")
        }
    }
}
