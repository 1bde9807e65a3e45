import Foundation

/// Limits configured for one provider (or one key and model).
public struct RateLimits: Sendable, Equatable {
    public var requestsPerMinute: Double?
    public var tokensPerMinute: Double?
    /// Calls in flight at once to this provider, across all jobs of the process (the gate
    /// enforces it; the limiter paces starts).
    public var maxInFlight: Int?
    /// Tokens this provider's batch API may hold queued at once (its enqueued-token limit):
    /// upstream batches are not sent past it.
    public var batchQueueTokens: Int?

    public init(requestsPerMinute: Double? = nil, tokensPerMinute: Double? = nil, maxInFlight: Int? = nil, batchQueueTokens: Int? = nil) {
        self.batchQueueTokens = batchQueueTokens
        self.requestsPerMinute = requestsPerMinute
        self.tokensPerMinute = tokensPerMinute
        self.maxInFlight = maxInFlight
    }
}
