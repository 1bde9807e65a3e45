public import Foundation
public import SluiceCore

/// One worker's view of one provider key's limits (its gate), as the worker last reported it.
public struct ProviderReading: Sendable, Equatable {
    /// The registry entry: a provider, or one key of a pool (`openai#2`).
    public var provider: String
    /// The reporting worker's id.
    public var worker: String
    public var limits: LimitReading
    /// Until when the key's circuit is open (`nil`: closed).
    public var circuitOpenUntil: Date?
    public var reportedAt: Date

    public init(provider: String, worker: String, limits: LimitReading, circuitOpenUntil: Date?, reportedAt: Date) {
        self.provider = provider
        self.worker = worker
        self.limits = limits
        self.circuitOpenUntil = circuitOpenUntil
        self.reportedAt = reportedAt
    }
}
