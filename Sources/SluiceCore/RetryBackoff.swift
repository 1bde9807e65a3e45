import Foundation

/// Exponential back-off with full jitter: the n-th retry waits a random time between zero and
/// `min(cap, base · 2ⁿ⁻¹)` so that many items failing together do not retry together.
public struct RetryBackoff: Sendable, Equatable {
    public var base: Double
    public var cap: Double

    public init(base: Double = 1, cap: Double = 60) {
        self.base = base
        self.cap = cap
    }

    /// The ceiling of the wait before retry number `attempt` (1-based).
    public func ceiling(attempt: Int) -> Double {
        min(cap, base * pow(2, Double(max(0, attempt - 1))))
    }

    /// The wait before retry `attempt`, with `unit` drawn uniformly from 0..<1 by the caller.
    public func delay(attempt: Int, unit: Double) -> Double {
        ceiling(attempt: attempt) * unit
    }
}
