import HTTPTypes
import Hummingbird
import Synchronization

/// Registers the API's routes and remembers each path's methods (``RoutePaths``), so that
/// another method on a known path is answered `405 Method Not Allowed` rather than `404`.
struct RouteTable {
    typealias Handler = @Sendable (Request, SluiceRequestContext) async throws -> Response
    let router: Router<SluiceRequestContext>
    let paths: RoutePaths

    func add(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping Handler) {
        router.on(RouterPath(path), method: method, use: handler)
        paths.add(method, path)
    }
}
