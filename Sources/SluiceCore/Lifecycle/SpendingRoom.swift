/// How many items a claim may take under a spending limit — a job's budget or a key's quota —
/// when only the cost of finished items is known: each item in flight and each one taken is
/// assumed to cost what finished items cost on average, so the limit is passed by no more than
/// what the calls in flight spend beyond that estimate.
public enum SpendingRoom: Sendable, Equatable {
    /// This many items fit.
    case items(Int)
    /// None fits beside the items in flight: claim nothing until they end.
    case wait
    /// Not even one fits and nothing is in flight: the limit is as good as reached.
    case full

    /// What fits in `left` (of tokens or millionths of a dollar) beside `running` items, at
    /// `perItem` each (at least 1).
    public init(left: Int64, running: Int, perItem: Double) {
        let cost = max(perItem, 1)
        let items = Int(((Double(left) - Double(running) * cost) / cost).rounded(.down))
        self = items >= 1 ? .items(items) : running > 0 ? .wait : .full
    }
}
