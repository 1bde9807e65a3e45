import Foundation
import SluiceCore

/// A change a caller asks of a job, and the statuses it may start from. Said once, here: each
/// driver's SQL guards its `UPDATE` with ``allowedFrom`` and refuses with ``verb``.
public enum JobAction: Sendable, CaseIterable {
    case appendItems, finishValidation, failValidation, restartValidation
    case cancel, pause, resume, retryFailed

    public var allowedFrom: [JobStatus] {
        switch self {
        case .appendItems, .finishValidation, .failValidation, .restartValidation: [.validating]
        case .cancel: JobStatus.allCases.filter { !$0.isFinal }
        case .pause: [.queued, .running, .paused]
        case .resume: [.paused]
        case .retryFailed: JobStatus.allCases.filter(\.isFinal)
        }
    }

    /// How a refusal names the action: "cannot \(verb) job …".
    public var verb: String {
        switch self {
        case .appendItems: "add items to"
        case .finishValidation: "finish validating"
        case .failValidation: "fail validation of"
        case .restartValidation: "restart validation of"
        case .cancel: "cancel"
        case .pause: "pause"
        case .resume: "resume"
        case .retryFailed: "retry the failed items of"
        }
    }
}

extension Sequence<JobStatus> {
    /// `'queued', 'running'`: the statuses as a SQL list, for a guard's `IN (…)`.
    public var sqlList: String { map { "'\($0.rawValue)'" }.joined(separator: ", ") }
}

extension JobStatus {
    /// Statuses in which a job still has work that may end: finalisation is tried only in these.
    public static let open: [JobStatus] = [.queued, .running, .paused, .cancelling]
}

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
        case .retry, .deferred: jobStatus == .cancelling ? .cancelled : .pending
        }
    }
}

/// Per-job count changes gathered over one transaction and written in one statement.
public struct CountChange: Sendable, Equatable {
    public var pending = 0
    public var running = 0
    public var succeeded = 0
    public var failed = 0
    public var cancelled = 0
    public var usage = TokenUsage()
    public var errors: [JobErrorEntry] = []

    public init() {}

    /// Counts one item moving from `running` to `status`.
    public mutating func finishRunning(as status: ItemStatus) {
        running -= 1
        switch status {
        case .pending: pending += 1
        case .running: running += 1
        case .succeeded: succeeded += 1
        case .failed: failed += 1
        case .cancelled: cancelled += 1
        }
    }
}
