/// Which request parameters reach a provider: an allow-list per kind of call.
///
/// A parameter passed as it is can change what a call costs or where its answer goes without
/// the engine knowing: `stream: true` made paid calls whose usage was never reported (so no
/// budget saw them), `n` multiplies the completion tokens, `store` and `service_tier` change
/// retention and price. Only parameters that shape the answer of one completion pass.
public enum ModelParams {
    /// Sampling and length parameters of a chat call, OpenAI's and Anthropic's names both (each
    /// provider sends the ones its API knows; see the providers).
    public static let chat: Set<String> = [
        "temperature", "top_p", "top_k", "max_tokens", "max_completion_tokens", "stop", "stop_sequences", "seed",
        "presence_penalty", "frequency_penalty", "logit_bias", "reasoning_effort", "response_format", "verbosity", "user",
    ]
    /// Parameters of an embeddings call.
    public static let embeddings: Set<String> = ["dimensions", "user"]

    /// `params` with `stream: false` and `n: 1` (which change nothing) dropped; refuses
    /// streaming, several choices and any key not in `allowed`, naming it under `field`.
    public static func checked(_ params: JSONObject, allowed: Set<String>, field: String) throws(SpecError) -> JSONObject {
        var kept = JSONObject()
        for (key, value) in params {
            switch key {
            case "stream":
                guard value == .bool(false) || value == .null else {
                    throw SpecError(field: path(field, key), message: "streaming is not available: every call's usage must be counted")
                }
            case "n":
                guard value.intValue == 1 || value == .null else {
                    throw SpecError(field: path(field, key), message: "only one choice per request is supported")
                }
            default:
                guard allowed.contains(key) else {
                    throw SpecError(
                        field: path(field, key),
                        message: "is not a parameter Sluice passes to providers (allowed: \(allowed.sorted().joined(separator: ", ")))")
                }
                kept[key] = value
            }
        }
        return kept
    }

    static func path(_ field: String, _ key: String) -> String { field.isEmpty ? key : field + "." + key }
}
