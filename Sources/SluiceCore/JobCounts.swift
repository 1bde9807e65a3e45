/// Per-status item counts of a job, kept exact by the store in the same transaction as every
/// item transition so that reading progress never scans items.
public struct JobCounts: Sendable, Equatable, Codable {
    public var total = 0
    public var pending = 0
    public var running = 0
    public var succeeded = 0
    public var failed = 0
    public var cancelled = 0

    public init(total: Int = 0, pending: Int = 0, running: Int = 0, succeeded: Int = 0, failed: Int = 0, cancelled: Int = 0) {
        self.total = total
        self.pending = pending
        self.running = running
        self.succeeded = succeeded
        self.failed = failed
        self.cancelled = cancelled
    }

    public var finished: Int { succeeded + failed + cancelled }

    /// Share of items that reached a final state, 0–1.
    public var progress: Double { total == 0 ? 0 : Double(finished) / Double(total) }

    /// The status a job reaches when nothing is pending or running, or `nil` while work remains.
    /// A job whose every item failed has failed; one with some failures completed with errors.
    /// `expired` tells a job stopped because its window ended from one a user cancelled.
    public func finalStatus(cancelling: Bool, expired: Bool = false) -> JobStatus? {
        guard pending == 0, running == 0 else { return nil }
        if cancelling { return expired ? .expired : .cancelled }
        if failed == 0 { return .completed }
        return succeeded == 0 ? .failed : .completedWithErrors
    }
}
