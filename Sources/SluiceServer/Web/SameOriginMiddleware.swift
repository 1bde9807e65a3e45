import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import SluiceStore

/// Refuses a request that would change state when a browser says it comes from another
/// origin (and that origin is not one CORS allows). Browsers send `Origin` on every cross-site
/// POST, so this keeps other sites from using a signed-in browser — or, with auth off, any
/// browser on this machine — to create, cancel or delete jobs; curl and the SDKs send no
/// `Origin` and are not affected.
struct SameOriginMiddleware: RouterMiddleware {
    typealias Context = SluiceRequestContext
    let allowedOrigins: Set<String>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if ![.get, .head, .options].contains(request.method), let origin = request.headers[.origin], !isAllowed(origin, request) {
            throw APIError(.forbidden, code: "cross_origin_refused", "requests that change state are not accepted from \(origin)")
        }
        return try await next(request, context)
    }

    func isAllowed(_ origin: String, _ request: Request) -> Bool {
        if allowedOrigins.contains(origin) || allowedOrigins.contains("*") { return true }
        guard let host = request.head.authority, let url = URL(string: origin), let originHost = url.host else {
            return false
        }
        let originAuthority = url.port.map { "\(originHost):\($0)" } ?? originHost
        return originAuthority.lowercased() == host.lowercased()
    }
}
