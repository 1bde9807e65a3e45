import SluiceCore

/// Somewhere model calls go. Implementations map ``ModelRequest`` to their wire format and
/// classify every failure as a ``ProviderFailure`` — they never invent a reply.
public protocol ModelProvider: Sendable {
    /// The name a spec's `provider` field refers to.
    var name: String { get }

    /// Makes one model call.
    func complete(_ request: ModelRequest) async throws(ProviderFailure) -> ModelReply
}

/// The providers a process knows, by name.
public struct ProviderRegistry: Sendable {
    var providers: [String: any ModelProvider]

    public init(_ providers: [any ModelProvider]) {
        self.providers = Dictionary(providers.map { ($0.name, $0) }, uniquingKeysWith: { _, last in last })
    }

    public subscript(name: String) -> (any ModelProvider)? { providers[name] }

    public var names: [String] { providers.keys.sorted() }
}
