import Foundation
import HTTPTypes
import Hummingbird
import Logging

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
