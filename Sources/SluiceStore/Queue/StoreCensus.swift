import Foundation
public import SluiceCore

/// Totals for monitoring, read without scanning items.
public struct StoreCensus: Sendable, Equatable {
    public var jobsByStatus: [JobStatus: Int]
    /// Item counts summed over jobs that are not final, by item status.
    public var openItems: JobCounts

    public init(jobsByStatus: [JobStatus: Int], openItems: JobCounts) {
        self.jobsByStatus = jobsByStatus
        self.openItems = openItems
    }
}
