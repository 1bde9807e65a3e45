import Foundation

public enum PaceHold: Sendable, Equatable {
    /// The provider answered 429: its limit is reached until then.
    case rateLimited
    /// Calls kept failing: the circuit is open until then.
    case circuitOpen
}
