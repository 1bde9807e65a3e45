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
    public var listCostMicros: Int64 = 0
    /// Calls served at the flex tier and through a batch API (the rest were standard).
    public var flexCalls = 0
    public var batchCalls = 0
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
