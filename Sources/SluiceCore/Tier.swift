/// How a job's calls are bought: the price a provider asks depends on how soon the answer is
/// needed.
///
/// - `standard`: live calls at the list price.
/// - `flex`: live calls marked `service_tier: "flex"` where the provider sells it (OpenAI,
///   Azure, Gemini's OpenAI endpoint): about half the price, slower answers, and now and then
///   a refusal for want of capacity, which only means "try later".
/// - `batch`: the provider's own batch API (OpenAI's `/v1/batches`, Anthropic's Message
///   Batches): half the price, answers within a day.
/// - `auto`: the batch API first; what is still unanswered when the deadline nears goes live.
public enum Tier: String, Sendable, Equatable, CaseIterable {
    case standard, flex, batch, auto

    /// Parses a spec's `tier`; `nil` is the default, `standard`.
    static func parse(_ json: JSONValue?) throws(SpecError) -> Tier {
        guard let json, json != .null else { return .standard }
        guard let name = json.stringValue, let tier = Tier(rawValue: name) else {
            throw SpecError(field: "tier", message: "must be one of \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return tier
    }

    /// The shortest and longest deadline a job may set.
    public static let deadlineRange: ClosedRange<Double> = 3_600...(7 * 86_400)
    /// The deadline a batch or auto job that sets none gets: the batch APIs' own window.
    public static let defaultDeadlineSeconds: Double = 86_400

    /// Parses a deadline such as `"90m"`, `"12h"` or `"7d"` into seconds, from 1 hour to 7 days.
    static func parseDeadline(_ json: JSONValue?) throws(SpecError) -> Double? {
        guard let json, json != .null else { return nil }
        let message = "must be a duration from \"1h\" to \"7d\", such as \"90m\", \"12h\" or \"2d\""
        guard let text = json.stringValue, let unit = text.last, let count = Double(text.dropLast()), count > 0 else {
            throw SpecError(field: "deadline", message: message)
        }
        let seconds: Double
        switch unit {
        case "m": seconds = count * 60
        case "h": seconds = count * 3_600
        case "d": seconds = count * 86_400
        default: throw SpecError(field: "deadline", message: message)
        }
        guard deadlineRange.contains(seconds) else { throw SpecError(field: "deadline", message: message) }
        return seconds
    }

    /// A deadline in the form it was given in: the largest unit that divides it.
    public static func deadlineText(_ seconds: Double) -> String {
        let whole = Int(seconds)
        if whole % 86_400 == 0 { return "\(whole / 86_400)d" }
        if whole % 3_600 == 0 { return "\(whole / 3_600)h" }
        return "\(whole / 60)m"
    }
}
