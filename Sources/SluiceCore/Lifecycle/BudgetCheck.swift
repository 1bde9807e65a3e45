import Foundation

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
        switch SpendingRoom(left: cap - spent, running: running, perItem: perItem) {
        case .items(let items): return .claim(min(requested, items))
        case .wait: return .wait
        case .full:
            return .pause(
                "budget nearly reached: spent \(amount(spent)) of \(amount(cap)), and an item costs about \(amount(Int64(perItem.rounded(.up)))); \(resume)"
            )
        }
    }

    func amount(_ value: Int64) -> String {
        switch unit {
        case .tokens: "\(value) tokens"
        case .usd: "$" + String(format: "%.4f", Double(value) / 1_000_000)
        }
    }
}
