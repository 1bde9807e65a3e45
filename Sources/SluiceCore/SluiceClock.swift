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
