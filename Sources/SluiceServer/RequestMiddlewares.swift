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
