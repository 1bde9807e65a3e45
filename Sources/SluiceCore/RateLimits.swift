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
    /// The share of every limit — configured, reported in headers or learned from 429s — left
    /// unused for others sharing the key (the company's chat app): `0.25` paces a 600 RPM key
    /// at 450 calls a minute, never in bursts, and stops while what the key has left is below
    /// the reserved share.
    public var reserve: Double

    /// The largest reserve: a provider kept at a tenth of its limit is still used.
    public static let maximumReserve = 0.9

    public init(
        requestsPerMinute: Double? = nil, tokensPerMinute: Double? = nil, maxInFlight: Int? = nil, batchQueueTokens: Int? = nil,
        reserve: Double = 0
    ) {
        self.reserve = reserve
        self.batchQueueTokens = batchQueueTokens
        self.requestsPerMinute = requestsPerMinute
        self.tokensPerMinute = tokensPerMinute
        self.maxInFlight = maxInFlight
    }
}
