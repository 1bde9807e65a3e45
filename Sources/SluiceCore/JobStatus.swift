/// Where a job is in its life. Raw values are the wire and database spellings.
///
/// Who moves a job out of each state:
/// - `validating`: the ingestor, to `queued` when every item is stored or `failed` on bad input.
/// - `queued`: the first claim, to `running`; cancel and pause from any worker or the API.
/// - `running`: the store's finaliser, when no item is pending or running.
/// - `paused`: resume (to `queued`/`running`) or cancel.
/// - `cancelling`: the finaliser, once the items already in flight have come back.
/// - final states (`completed`, `completed_with_errors`, `failed`, `cancelled`, `expired`): nobody.
public enum JobStatus: String, Sendable, Codable, CaseIterable {
    case validating
    case queued
    case running
    case paused
    case cancelling
    case completed
    case completedWithErrors = "completed_with_errors"
    case failed
    case cancelled
    case expired

    /// A final status is reached exactly once and never left.
    public var isFinal: Bool {
        switch self {
        case .completed, .completedWithErrors, .failed, .cancelled, .expired: true
        default: false
        }
    }

    /// Workers may claim this job's pending items.
    public var isClaimable: Bool { self == .queued || self == .running }
}

extension JobStatus {
    /// Statuses in which a job still has work that may end: finalisation is tried only in these.
    public static let open: [JobStatus] = [.queued, .running, .paused, .cancelling]
}
