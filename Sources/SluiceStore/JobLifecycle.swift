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
        case .retry, .deferred, .repack: jobStatus == .cancelling ? .cancelled : .pending
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
    public var calls = 0
    public var cached = 0
    public var costMicros: Int64 = 0
    /// The failure brake's window after these outcomes; `nil` leaves it as it is.
    public var recentOutcomes: String?
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

/// What a claim may take of a job that has a budget: the decision, free of any database.
///
/// Spending is known only after a call, so the claim estimates: the job's spend per finished
/// item so far, times the items already in flight, must leave room for each item it takes.
/// Before any item has finished there is no estimate and the claim takes what it asked —
/// so a job overshoots its cap by at most the calls in flight, never by more.
public struct BudgetCheck: Sendable, Equatable {
    /// Tokens (or millionths of a dollar) spent so far, and the cap.
    public var spent: Int64
    public var cap: Int64
    /// Items that finished after a call (not from the cache), and items in flight.
    public var finished: Int
    public var running: Int
    /// How the unit reads in a reason: "tokens" or "USD".
    public var unit: Unit

    public enum Unit: Sendable, Equatable {
        case tokens
        case usd
    }

    public enum Decision: Sendable, Equatable {
        /// Claim at most this many items.
        case claim(Int)
        /// Claim nothing now: the calls in flight may use up the rest.
        case wait
        /// Pause the job with this reason.
        case pause(String)
    }

    public init(spent: Int64, cap: Int64, finished: Int, running: Int, unit: Unit) {
        self.spent = spent
        self.cap = cap
        self.finished = finished
        self.running = running
        self.unit = unit
    }

    public func decide(requested: Int) -> Decision {
        let resume = "resume it with a higher budget to go on"
        guard spent < cap else { return .pause("budget reached: spent \(amount(spent)) of \(amount(cap)); \(resume)") }
        guard finished > 0 else { return .claim(requested) }
        let perItem = max(Double(spent) / Double(finished), 1)
        let room = Double(cap - spent) - Double(running) * perItem
        let items = Int((room / perItem).rounded(.down))
        if items >= 1 { return .claim(min(requested, items)) }
        if running > 0 { return .wait }
        return .pause(
            "budget nearly reached: spent \(amount(spent)) of \(amount(cap)), and an item costs about \(amount(Int64(perItem.rounded(.up)))); \(resume)"
        )
    }

    func amount(_ value: Int64) -> String {
        switch unit {
        case .tokens: "\(value) tokens"
        case .usd: "$" + String(format: "%.4f", Double(value) / 1_000_000)
        }
    }
}

/// The failure brake's memory: the outcomes of a job's latest finished items, `s` or `f`,
/// latest last, kept to the brake's window.
public enum FailureWindow {
    public static func slide(_ recent: String, appending outcomes: String, size: Int) -> String {
        String((recent + outcomes).suffix(size))
    }

    /// The pause reason when `window` trips `brake`, or `nil`.
    public static func pauseReason(_ window: String, brake: FailureBrake, lastError: String?) -> String? {
        let failures = window.count { $0 == "f" }
        guard brake.trips(failures: failures, of: window.count) else { return nil }
        var reason = "failure brake: \(failures) of the last \(window.count) items failed"
        if let lastError { reason += " (last error: \(lastError.prefix(300)))" }
        return reason + "; fix the cause (prompt, model, provider) and resume, or cancel"
    }
}
