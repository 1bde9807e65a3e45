public import Foundation

/// The start times a block was given, and any hold on the provider.
public struct PaceGrant: Sendable, Equatable {
    /// When each call of the block may start, in order.
    public var starts: [Date]
    /// When the provider's circuit, opened by some process, closes again (`nil`: closed).
    public var circuitOpenUntil: Date?

    public init(starts: [Date], circuitOpenUntil: Date?) {
        self.starts = starts
        self.circuitOpenUntil = circuitOpenUntil
    }
}
