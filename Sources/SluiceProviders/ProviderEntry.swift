public import SluiceCore

/// A provider with the limits its calls must respect and when to stop calling it.
public struct ProviderEntry: Sendable {
    public var provider: any ModelProvider
    public var limits: RateLimits
    public var breaker: CircuitBreaker.Configuration
    /// The model used when a spec names none.
    public var defaultModel: String?
    /// Whether an overdue call is raced by a second one (see ``ProviderSettings/hedgesHungCalls``).
    public var hedgesHungCalls: Bool
    /// For a provider with a key pool: the entries of its keys (`NAME#1`, `NAME#2`, …), each its
    /// own provider with its own gate; this entry stands for the pool (its `provider` is the
    /// first key's, for what is not a call: a batch API, an estimate).
    public var keys: [String] = []
    /// The provider whose key this entry is (`nil`: none, it is a provider): calls through it
    /// count as that provider's in the usage ledger.
    public var pool: String?
    /// Where calls go when this provider cannot take them (see ``ProviderSettings/fallbacks``).
    public var fallbacks: [String] = []
    public var fallbackAfterSeconds: Double = 30

    public init(
        _ provider: any ModelProvider, limits: RateLimits = RateLimits(), breaker: CircuitBreaker.Configuration = .init(),
        defaultModel: String? = nil, hedgesHungCalls: Bool = true
    ) {
        self.hedgesHungCalls = hedgesHungCalls
        self.provider = provider
        self.limits = limits
        self.breaker = breaker
        self.defaultModel = defaultModel
    }
}
