import HTTPTypes
import Hummingbird
import Synchronization

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
