/// The most a job may spend: tokens, money, or both. The job pauses with the reason before a
/// claim would pass either; resuming with a higher cap lets it go on.
public struct Budget: Sendable, Equatable {
    /// Prompt plus completion tokens over all the job's calls.
    public var tokens: Int?
    /// US dollars, priced from the configuration's per-model prices.
    public var costUSD: Double?

    public init(tokens: Int? = nil, costUSD: Double? = nil) {
        self.tokens = tokens
        self.costUSD = costUSD
    }

    /// The budget a JSON value gives: `nil` for `null` or no caps at all.
    public static func parse(_ json: JSONValue) throws(SpecError) -> Budget? { try Budget(json) }

    init?(_ json: JSONValue) throws(SpecError) {
        guard json != .null else { return nil }
        guard case .object(let object) = json else {
            throw SpecError(field: "budget", message: "must be an object such as {\"tokens\": 100000} or {\"cost_usd\": 2.5}")
        }
        for key in object.keys where key != "tokens" && key != "cost_usd" {
            throw SpecError(field: "budget.\(key)", message: "unknown budget (known: tokens, cost_usd)")
        }
        if let raw = object["tokens"], raw != .null {
            guard let tokens = raw.intValue, tokens > 0 else {
                throw SpecError(field: "budget.tokens", message: "must be a positive integer")
            }
            self.tokens = tokens
        }
        if let raw = object["cost_usd"], raw != .null {
            guard let cost = raw.doubleValue, cost > 0, cost.isFinite else {
                throw SpecError(field: "budget.cost_usd", message: "must be a positive number")
            }
            costUSD = cost
        }
        if tokens == nil, costUSD == nil { return nil }
    }

    public var json: JSONValue {
        var object = JSONObject()
        if let tokens { object["tokens"] = .int(tokens) }
        if let costUSD { object["cost_usd"] = .double(costUSD) }
        return .object(object)
    }

    /// A cost cap in the store's unit (millionths of a dollar), so sums stay exact integers.
    public var costMicros: Int64? { costUSD.map { Int64(($0 * 1_000_000).rounded()) } }
}
