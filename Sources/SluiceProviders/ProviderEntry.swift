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
