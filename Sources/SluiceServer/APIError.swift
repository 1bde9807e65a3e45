import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SluiceCore
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
        return ["error": .object(error)]
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = Response.json(body, status: status)
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

/// Turns every error a route throws into the API's JSON error shape, so unknown routes,
/// Hummingbird's own refusals and unexpected failures all look alike to clients.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let paths: RoutePaths

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let error as HTTPError where error.status == .notFound {
            guard let allowed = paths.allowedMethods(forPath: request.uri.path) else {
                return try APIError(.notFound, code: "not_found", "no route for \(request.method) \(request.uri.path)")
                    .response(from: request, context: context)
            }
            let allow = allowed.map(\.rawValue).joined(separator: ", ")
            return try APIError(
                .methodNotAllowed, code: "method_not_allowed",
                "\(request.method) is not allowed on \(request.uri.path) (allowed: \(allow))",
                headers: [.allow: allow]
            ).response(from: request, context: context)
        } catch let error as HTTPError {
            let code: String
            switch error.status {
            case .methodNotAllowed: code = "method_not_allowed"
            case .contentTooLarge: code = "upload_too_large"
            case .unsupportedMediaType: code = "unsupported_media_type"
            default: code = error.status.code >= 500 ? "server_error" : "invalid_request"
            }
            let message = error.body ?? error.status.reasonPhrase
            return try APIError(error.status, code: code, message, headers: error.headers).response(from: request, context: context)
        } catch let error as StoreError {
            // The driver's own text (SQL, data) goes to the log only; the client hears ours.
            context.logger.error(
                "request failed in the store", metadata: ["error": "\(error)", "driver": "\(error.driverError.map { "\($0)" } ?? "-")"])
            return try APIError(store: error).response(from: request, context: context)
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            return try APIError(.internalServerError, code: "server_error", "internal error; the server's log has the details").response(
                from: request, context: context)
        }
    }
}

extension APIError {
    /// What a client is told of a store failure: busy (try again), a conflict, or unavailable.
    init(store error: StoreError) {
        switch error {
        case .jobNotFound(let id): self = APIError.notFound("job \(id)")
        case .invalidTransition: self = APIError.conflict(error.description)
        case .conflict: self = APIError(.conflict, code: "conflict", error.description)
        case .retryable: self = APIError(.serviceUnavailable, code: "database_busy", error.description, headers: [.retryAfter: "1"])
        case .notReady, .failed: self = APIError(.serviceUnavailable, code: "database_unavailable", error.description)
        case .corrupt: self = APIError(.internalServerError, code: "server_error", error.description)
        }
    }
}
