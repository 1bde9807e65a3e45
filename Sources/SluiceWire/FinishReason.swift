/// Why a reply ended, in each vendor's words: a batch's line may be answered by the other
/// vendor's model (routes choose by model), and its output file speaks its own API's language.
public enum FinishReason {
    /// OpenAI's words: `stop`, `length`, `content_filter`, `tool_calls`. A reply with no
    /// reason said (the built-in provider's, a cached one) ended normally.
    public static func openAI(_ reason: String?) -> String {
        switch reason {
        case nil, "end_turn"?, "stop_sequence"?: "stop"
        case "max_tokens"?: "length"
        case "refusal"?: "content_filter"
        case "tool_use"?: "tool_calls"
        case let other?: other
        }
    }

    /// Anthropic's words: `end_turn`, `max_tokens`, `stop_sequence`, `refusal`, `tool_use`.
    public static func anthropic(_ reason: String?) -> String {
        switch reason {
        case nil, "stop"?: "end_turn"
        case "length"?: "max_tokens"
        case "content_filter"?: "refusal"
        case "tool_calls"?: "tool_use"
        case let other?: other
        }
    }

    /// Whether the reply was cut at its token limit, in either vendor's words.
    public static func isCutAtLimit(_ reason: String?) -> Bool { reason == "length" || reason == "max_tokens" }
}
