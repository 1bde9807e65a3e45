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

/// Path templates split into segments (`:id` matches any one segment), with their methods.
/// Shared by reference: the error middleware is added before the routes it learns about.
final class RoutePaths: Sendable {
    private let templates = Mutex<[(segments: [Substring], methods: [HTTPRequest.Method])]>([])

    func add(_ method: HTTPRequest.Method, _ path: String) {
        let segments = path.split(separator: "/")
        templates.withLock { templates in
            if let index = templates.firstIndex(where: { $0.segments == segments }) {
                templates[index].methods.append(method)
            } else {
                templates.append((segments, [method]))
            }
        }
    }

    /// The methods a path allows, or `nil` for a path no route has.
    func allowedMethods(forPath path: String) -> [HTTPRequest.Method]? {
        let segments = path.split(separator: "/")
        return templates.withLock { $0 }.first { template in
            template.segments.count == segments.count
                && zip(template.segments, segments).allSatisfy { pattern, segment in pattern.hasPrefix(":") || pattern == segment }
        }?.methods
    }
}
