public import Foundation

/// Stops dispatching to a provider that keeps failing, then probes it with one call.
///
/// After `failureThreshold` consecutive failures (timeouts, dropped connections, 5xx) it opens
/// for `coolDown` seconds; then one probe call decides: success closes it, failure opens it
/// again. While it is open, items wait rather than spending their attempts on a provider that
/// is down. Pure: time comes in with each event.
///
/// A failure counts only if its call started after the last success came back: a call that
/// hung for a minute and then failed says nothing about a provider that has answered since. Without
/// that, the hung calls of a busy minute — all ending together once the rest of the work is
/// done — would open the circuit on a healthy provider and stall their own retries.
public struct CircuitBreaker: Sendable, Equatable {
    public struct Configuration: Sendable, Equatable {
        public var failureThreshold: Int
        public var coolDown: Double

        public init(failureThreshold: Int = 5, coolDown: Double = 30) {
            self.failureThreshold = max(1, failureThreshold)
            self.coolDown = coolDown
        }
    }

    public enum State: Sendable, Equatable {
        case closed(consecutiveFailures: Int)
        case open(until: Date)
        /// Cooled down; `probing` while the one probe call is in flight.
        case halfOpen(probing: Bool)
    }

    public let configuration: Configuration
    public private(set) var state = State.closed(consecutiveFailures: 0)
    /// When the last successful call came back.
    public private(set) var lastSuccessAt: Date?

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// When a call may next be admitted: `nil` for now. While a probe is in flight the answer
    /// is a short poll, since the probe's own duration is unknown.
    public mutating func availableAt(now: Date) -> Date? {
        switch state {
        case .closed: return nil
        case .open(let until):
            guard now >= until else { return until }
            state = .halfOpen(probing: false)
            return nil
        case .halfOpen(let probing):
            return probing ? now.addingTimeInterval(0.1) : nil
        }
    }

    /// Admits a call; call only when ``availableAt(now:)`` returned `nil`.
    public mutating func admit() {
        if case .halfOpen = state { state = .halfOpen(probing: true) }
    }

    /// Hands back an admitted call that was never made.
    public mutating func cancel() {
        if case .halfOpen(true) = state { state = .halfOpen(probing: false) }
    }

    /// Records how a call started at `startedAt` (`nil`: unknown, counted) went, for a call that
    /// counts for the provider's health. Rate limits and rejected requests say nothing about
    /// health and are not recorded.
    public mutating func record(success: Bool, startedAt: Date? = nil, now: Date) {
        if !success, let startedAt, let lastSuccessAt, startedAt < lastSuccessAt { return }
        switch (state, success) {
        case (_, true):
            state = .closed(consecutiveFailures: 0)
            lastSuccessAt = now
        case (.closed(let failures), false):
            state =
                failures + 1 >= configuration.failureThreshold
                ? .open(until: now.addingTimeInterval(configuration.coolDown)) : .closed(consecutiveFailures: failures + 1)
        case (.halfOpen, false), (.open, false):
            state = .open(until: now.addingTimeInterval(configuration.coolDown))
        }
    }
}
