/// What becomes of items: the decisions of the item life cycle, free of any database.
public enum ItemLifecycle {
    /// Where a running item goes when it is taken from its holder without an outcome — a
    /// release, a lost lease, a dead worker.
    ///
    /// A job being cancelled takes it as cancelled. A release that made no call (`refund`)
    /// returns it to pending with the attempt given back. Otherwise the attempt stays spent,
    /// and an item that has used its last one fails: one that kills every worker touching it
    /// must not loop forever.
    public static func takenBack(attempts: Int, maxAttempts: Int, jobStatus: JobStatus, refund: Bool) -> ItemStatus {
        if jobStatus == .cancelling { return .cancelled }
        if !refund, attempts >= maxAttempts { return .failed }
        return .pending
    }

    /// The status an outcome leaves its item in. A job being cancelled takes no retries: a
    /// retried or deferred item ends there as cancelled.
    public static func status(after result: ItemOutcome.Result, jobStatus: JobStatus) -> ItemStatus {
        switch result {
        case .succeeded: .succeeded
        case .failed: .failed
        case .retry, .deferred, .repack, .raiseReplyLimit, .capped: jobStatus == .cancelling ? .cancelled : .pending
        }
    }
}
