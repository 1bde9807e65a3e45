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

/// Where one item is. Raw values are the wire and database spellings.
public enum ItemStatus: String, Sendable, Codable, CaseIterable {
    /// Waiting for a worker; may carry a not-before time after a retryable failure.
    case pending
    /// Leased to one worker until its lease expires.
    case running
    case succeeded
    case failed
    case cancelled

    public var isFinal: Bool { self == .succeeded || self == .failed || self == .cancelled }
}

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

/// Tokens spent, as the provider reported them.
public struct TokenUsage: Sendable, Equatable, Codable {
    public var promptTokens: Int
    public var completionTokens: Int

    public init(promptTokens: Int = 0, completionTokens: Int = 0) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
    }

    public static func + (lhs: TokenUsage, rhs: TokenUsage) -> TokenUsage {
        TokenUsage(promptTokens: lhs.promptTokens + rhs.promptTokens, completionTokens: lhs.completionTokens + rhs.completionTokens)
    }

    public var json: JSONValue {
        ["prompt_tokens": .int(promptTokens), "completion_tokens": .int(completionTokens)]
    }
}

/// One error recorded on a job: a place in the input (`line`, `column`) or an item index.
public struct JobErrorEntry: Sendable, Equatable, Codable {
    /// The input file, when a job reads more than one.
    public var file: String?
    public var line: Int?
    public var column: Int?
    public var item: Int?
    /// A machine-readable reason where a contract names one (the Batch API's
    /// `duplicate_custom_id`, `invalid_url`, …).
    public var code: String?
    public var message: String

    public init(file: String? = nil, line: Int? = nil, column: Int? = nil, item: Int? = nil, code: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.item = item
        self.code = code
        self.message = message
    }

    /// The contract shape: `{"line", "column", "message"}` or `{"item", "message"}`.
    public var json: JSONValue {
        var object = JSONObject()
        if let file { object["file"] = .string(file) }
        if let item { object["item"] = .int(item) }
        if let line { object["line"] = .int(line) }
        if let column { object["column"] = .int(column) }
        if let code { object["code"] = .string(code) }
        object["message"] = .string(message)
        return .object(object)
    }

    public init?(json: JSONValue) {
        guard let message = json["message"]?.stringValue else { return nil }
        self.init(
            file: json["file"]?.stringValue, line: json["line"]?.intValue, column: json["column"]?.intValue, item: json["item"]?.intValue,
            code: json["code"]?.stringValue, message: message)
    }

    /// `line 3, column 7: message`, for terminals and logs.
    public var description: String {
        var place: [String] = []
        if let file { place.append(file) }
        if let line { place.append(column.map { "line \(line), column \($0)" } ?? "line \(line)") }
        if let item { place.append("item \(item)") }
        return (place + [message]).joined(separator: ": ")
    }
}

extension JobStatus {
    /// Statuses in which a job still has work that may end: finalisation is tried only in these.
    public static let open: [JobStatus] = [.queued, .running, .paused, .cancelling]
}
