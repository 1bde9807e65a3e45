public import Foundation

/// Wall-clock time and waiting, injected wherever leases, back-off and timeouts are computed,
/// so that tests move time forward instead of sleeping.
public protocol SluiceClock: Sendable {
    func now() -> Date
    /// Waits `seconds` of this clock's time; throws `CancellationError` when the task is cancelled.
    func sleep(seconds: Double) async throws
    /// Waits until this clock reads `date` or later. A waiter that worked out its deadline
    /// before it slept must say the deadline, not the time left: time may pass in between,
    /// and a clock moved by hand (in tests) would wake it that much late, or never.
    func sleep(until date: Date) async throws
}

extension SluiceClock {
    public func sleep(until date: Date) async throws {
        try await sleep(seconds: date.timeIntervalSince(now()))
    }
}

/// The real clock.
public struct SystemClock: SluiceClock {
    public init() {}
    public func now() -> Date { Date() }
    public func sleep(seconds: Double) async throws {
        try await Task.sleep(for: .seconds(seconds))
    }
}

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
