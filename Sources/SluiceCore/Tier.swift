/// How a job's calls are bought: the price a provider asks depends on how soon the answer is
/// needed.
///
/// - `standard`: live calls at the list price.
/// - `flex`: live calls marked `service_tier: "flex"` where the provider sells it (OpenAI,
///   Azure, Gemini's OpenAI endpoint): about half the price, slower answers, and now and then
///   a refusal for want of capacity, which only means "try later".
/// - `batch`: the provider's own batch API (OpenAI's `/v1/batches`, Anthropic's Message
///   Batches): half the price, answers within a day.
/// - `auto`: the batch API first; what is still unanswered when the deadline (the job's, else
///   ``JobDeadline/autoSeconds``) nears goes live.
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
}
