public import Foundation

/// What one API key's jobs may spend per UTC day and per UTC month, in tokens (prompt plus
/// completion) and in money. A claim for a job of the key checks it against what the key's jobs
/// have spent in the window (``UsageWindow``) and takes only the items that fit (see
/// ``decide(_:perItem:running:requested:now:)``); at the limit the job pauses with a `quota`
/// reason until the window rolls.
public struct KeyQuota: Sendable, Equatable {
    public var tokensPerDay: Int64?
    public var tokensPerMonth: Int64?
    /// Millionths of a dollar, as every cost in the store.
    public var costMicrosPerDay: Int64?
    public var costMicrosPerMonth: Int64?

    public init(tokensPerDay: Int64? = nil, tokensPerMonth: Int64? = nil, costMicrosPerDay: Int64? = nil, costMicrosPerMonth: Int64? = nil)
    {
        self.tokensPerDay = tokensPerDay
        self.tokensPerMonth = tokensPerMonth
        self.costMicrosPerDay = costMicrosPerDay
        self.costMicrosPerMonth = costMicrosPerMonth
    }

    /// No limit at all: the claim need not read the key's spending.
    public var isEmpty: Bool { tokensPerDay == nil && tokensPerMonth == nil && costMicrosPerDay == nil && costMicrosPerMonth == nil }

    /// What a key's jobs have spent in the current day and month.
    public struct Spent: Sendable, Equatable {
        public var tokensToday: Int64
        public var tokensThisMonth: Int64
        public var costMicrosToday: Int64
        public var costMicrosThisMonth: Int64

        public init(tokensToday: Int64 = 0, tokensThisMonth: Int64 = 0, costMicrosToday: Int64 = 0, costMicrosThisMonth: Int64 = 0) {
            self.tokensToday = tokensToday
            self.tokensThisMonth = tokensThisMonth
            self.costMicrosToday = costMicrosToday
            self.costMicrosThisMonth = costMicrosThisMonth
        }
    }

    /// A limit reached: the words a paused job shows, and when its window rolls.
    public struct Reached: Sendable, Equatable {
        public var reason: String
        public var until: Date
    }

    /// What one of the key's jobs costs per item, from what its finished items spent (`nil`
    /// before any finished): how a claim is sized so the calls it starts stay within the quota.
    public struct PerItem: Sendable, Equatable {
        public var tokens: Double?
        public var costMicros: Double?

        public init(tokens: Double? = nil, costMicros: Double? = nil) {
            self.tokens = tokens
            self.costMicros = costMicros
        }
    }

    public enum Decision: Sendable, Equatable {
        /// Claim at most this many items.
        case claim(Int)
        /// Claim nothing now: the job's calls in flight may use up what is left.
        case wait
        /// Pause the job until the window rolls.
        case pause(Reached)
    }

    /// How many of `requested` items a claim for a job of the key may take at `now`: none once a
    /// limit is reached (pause), and otherwise only as many as fit in what is left beside the
    /// job's `running` items, at `perItem` each — so the quota is passed by no more than what
    /// the calls in flight spend beyond their estimate. The monthly limits are checked first:
    /// a job paused by one must not wake at midnight only to pause again.
    public func decide(_ spent: Spent, perItem: PerItem, running: Int, requested: Int, now: Date) -> Decision {
        let window = UsageWindow(now)
        let checks: [(limit: Int64?, spent: Int64, perItem: Double?, what: String, until: Date)] = [
            (tokensPerMonth, spent.tokensThisMonth, perItem.tokens, "tokens per month", window.monthEnd),
            (costMicrosPerMonth, spent.costMicrosThisMonth, perItem.costMicros, "USD per month", window.monthEnd),
            (tokensPerDay, spent.tokensToday, perItem.tokens, "tokens per day", window.dayEnd),
            (costMicrosPerDay, spent.costMicrosToday, perItem.costMicros, "USD per day", window.dayEnd),
        ]
        var decision = Decision.claim(requested)
        for check in checks {
            guard let limit = check.limit else { continue }
            let amount = check.what.hasPrefix("USD") ? Self.usd(limit) : String(limit)
            let resumes = "the job resumes by itself at \(check.until.formatted(.iso8601))"
            if check.spent >= limit {
                return .pause(
                    Reached(
                        reason: "\(Self.reasonPrefix) the key's limit of \(amount) \(check.what) is reached; \(resumes)", until: check.until
                    ))
            }
            guard let cost = check.perItem.map({ max($0, 1) }) else { continue }
            switch SpendingRoom(left: limit - check.spent, running: running, perItem: cost) {
            case .items(let items):
                if case .claim(let allowed) = decision { decision = .claim(min(allowed, items)) }
            case .wait:
                decision = .wait
            case .full:
                return .pause(
                    Reached(
                        reason: "\(Self.reasonPrefix) the key's limit of \(amount) \(check.what) is nearly reached (an item costs about "
                            + "\(check.what.hasPrefix("USD") ? Self.usd(Int64(cost.rounded(.up))) : String(Int64(cost.rounded(.up))))); \(resumes)",
                        until: check.until))
            }
        }
        return decision
    }

    /// How a quota pause's reason begins: what the job object's `status_reason` shows, and how
    /// the page tells a quota pause from others.
    public static let reasonPrefix = "quota:"

    /// The quota in a few words — `1000000 tokens/day, $50.00/month` — or `-` when there is none.
    public var summary: String {
        let parts = [
            tokensPerDay.map { "\($0) tokens/day" }, tokensPerMonth.map { "\($0) tokens/month" },
            costMicrosPerDay.map { Self.usd($0) + "/day" }, costMicrosPerMonth.map { Self.usd($0) + "/month" },
        ].compactMap { $0 }
        return parts.isEmpty ? "-" : parts.joined(separator: ", ")
    }

    public static func usd(_ micros: Int64) -> String {
        "$" + String(format: "%.2f", Double(micros) / 1_000_000)
    }
}

/// The UTC day and month an instant falls in, as the usage ledger keys them (`2026-12-07`).
public struct UsageWindow: Sendable, Equatable {
    public var day: String
    public var monthStart: String
    public var dayEnd: Date
    public var monthEnd: Date

    public init(_ now: Date) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day], from: now)
        let (year, month, dayOfMonth) = (parts.year!, parts.month!, parts.day!)
        day = Self.text(year, month, dayOfMonth)
        monthStart = Self.text(year, month, 1)
        let startOfDay = calendar.date(from: DateComponents(year: year, month: month, day: dayOfMonth))!
        dayEnd = calendar.date(byAdding: .day, value: 1, to: startOfDay)!
        monthEnd = calendar.date(from: DateComponents(year: month == 12 ? year + 1 : year, month: month == 12 ? 1 : month + 1, day: 1))!
    }

    static func text(_ year: Int, _ month: Int, _ day: Int) -> String {
        String(format: "%04d-%02d-%02d", year, month, day)
    }
}
