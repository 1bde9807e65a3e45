import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SluiceCore
import SluiceStorage
import SluiceStore

/// Turns every error a route throws into the API's JSON error shape, so unknown routes,
/// Hummingbird's own refusals and unexpected failures all look alike to clients.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = SluiceRequestContext
    let paths: RoutePaths

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
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
        } catch {
            return try APIError.answering(error, context: context).response(from: request, context: context)
        }
    }
}
