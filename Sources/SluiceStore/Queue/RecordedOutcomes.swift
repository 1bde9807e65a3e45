import Foundation
public import SluiceCore

/// What ``JobStore/record(_:owner:now:)`` did.
public struct RecordedOutcomes: Sendable, Equatable {
    /// The items whose outcome was written; the others' leases were lost.
    public var ids: Set<Int64>
    /// Jobs these outcomes finished, with their final status: each job is reported once, by the
    /// one transaction that finalised it.
    public var finishedJobs: [String: JobStatus]

    public init(ids: Set<Int64> = [], finishedJobs: [String: JobStatus] = [:]) {
        self.ids = ids
        self.finishedJobs = finishedJobs
    }
}
