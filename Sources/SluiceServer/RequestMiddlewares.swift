import Foundation
import HTTPTypes
import Hummingbird
import Logging

extension HTTPField.Name {
    static let requestID = HTTPField.Name("X-Request-Id")!
    static let accessControlAllowOrigin = HTTPField.Name("Access-Control-Allow-Origin")!
    static let accessControlAllowMethods = HTTPField.Name("Access-Control-Allow-Methods")!
    static let accessControlAllowHeaders = HTTPField.Name("Access-Control-Allow-Headers")!
    static let accessControlExposeHeaders = HTTPField.Name("Access-Control-Expose-Headers")!
    static let vary = HTTPField.Name("Vary")!
}

/// With auth off, serves only requests addressed to this machine by a loopback name or
/// address (or a configured name). A page on any web site can re-point its own domain at
/// 127.0.0.1 (DNS rebinding) and then call a keyless server as same-origin; its requests still
/// carry the page's domain in `Host`, which is how they are told apart. `421` says the request
/// reached a server that does not serve that name.
struct LoopbackHostMiddleware: RouterMiddleware {
    typealias Context = SluiceRequestContext
    let configuration: ServerConfiguration

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let authority = request.head.authority ?? ""
        guard configuration.acceptsHost(authority) else {
            throw APIError(
                .misdirectedRequest, code: "host_refused",
                "this server runs without API keys and answers only to loopback names (localhost, 127.0.0.1, [::1]), not '\(authority.prefix(200))'; add the name with --allowed-host"
            )
        }
        return try await next(request, context)
    }
}

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

/// Cross-origin access for the configured origins only; with none configured, browsers get
/// no CORS headers at all (the default).
struct CORSMiddleware: RouterMiddleware {
    typealias Context = SluiceRequestContext
    let origins: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], origins.contains(origin) || origins.contains("*") else {
            return try await next(request, context)
        }
        var response: Response
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            response = Response(status: .noContent)
            response.headers[.accessControlAllowMethods] = "GET, POST, DELETE, OPTIONS"
            response.headers[.accessControlAllowHeaders] = "Authorization, Content-Type, X-Request-Id"
        } else {
            response = try await next(request, context)
        }
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.accessControlExposeHeaders] = "Location, Retry-After, X-Request-Id"
        response.headers[.vary] = "Origin"
        return response
    }
}
