public import SluiceCore

/// The providers a process knows, by name.
public struct ProviderRegistry: Sendable {
    var entries: [String: ProviderEntry]
    /// Model-name patterns to provider names, first match wins (see ``providerName(forModel:)``).
    public var routes: [ModelRoute]
    /// Where a model no route matches goes: the configuration's default provider.
    public var defaultProvider: String?
    /// What the calls cost, for each job's cost and cost budget.
    public var prices: ModelPrices
    /// Whose earlier calls may answer a request, and for how long.
    public var cache: CacheSettings

    public init(
        entries: [ProviderEntry], routes: [ModelRoute] = [], defaultProvider: String? = nil, prices: ModelPrices = ModelPrices(),
        cache: CacheSettings = CacheSettings()
    ) {
        self.cache = cache
        self.entries = Dictionary(entries.map { ($0.provider.name, $0) }, uniquingKeysWith: { _, last in last })
        self.routes = routes
        self.defaultProvider = defaultProvider
        self.prices = prices
    }

    /// The provider a model name routes to: the first matching route, else the default provider.
    public func providerName(forModel model: String) -> String? {
        routes.first { $0.matches(model) }?.provider ?? defaultProvider
    }

    /// Providers with no limits of their own (the built-in one, test providers).
    public init(_ providers: [any ModelProvider]) {
        self.init(entries: providers.map { ProviderEntry($0) })
    }

    public subscript(name: String) -> ProviderEntry? { entries[name] }

    public var names: [String] { entries.keys.sorted() }

    /// The providers with a key pool, and their keys' entries (see ``ProviderEntry/keys``).
    public var pools: [String: [String]] { entries.filter { !$0.value.keys.isEmpty }.mapValues(\.keys) }

    /// Whose calls a provider's are in the usage ledger: its pool's, for a pool's key.
    public func account(of name: String) -> String { entries[name]?.pool ?? name }

    /// The providers a call to `name` (or to its pool) falls back to, in order.
    public func fallbacks(of name: String) -> [String] { entries[account(of: name)]?.fallbacks ?? [] }
}
