import Foundation

/// A model-name pattern (`*` matches any run of characters) and the provider it routes to.
public struct ModelRoute: Sendable, Equatable {
    public var pattern: String
    public var provider: String

    public init(pattern: String, provider: String) {
        self.pattern = pattern
        self.provider = provider
    }

    public func matches(_ model: String) -> Bool {
        let parts = pattern.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
        guard parts.count > 1 else { return pattern == model }
        guard model.hasPrefix(parts[0]), model.hasSuffix(parts[parts.count - 1]),
            model.count >= parts[0].count + parts[parts.count - 1].count
        else { return false }
        var rest = Substring(model.dropFirst(parts[0].count).dropLast(parts[parts.count - 1].count))
        for middle in parts.dropFirst().dropLast() where !middle.isEmpty {
            guard let range = rest.range(of: middle) else { return false }
            rest = rest[range.upperBound...]
        }
        return true
    }
}
