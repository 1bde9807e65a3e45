/// How many tokens an item's reply may use, and how that grows when a reasoning model spends
/// it all thinking.
///
/// A reasoning model bills its hidden reasoning as reply tokens; given too small a limit it
/// thinks until the limit and answers nothing (`finish_reason: "length"`, empty content),
/// fully billed. Asking again with the same limit buys the same empty reply, so such an item
/// is asked again with double the limit — not as a repair (the reply was not wrong, only cut),
/// so no attempt is spent — until the job's cap (`max_reply_tokens`) or its token budget stops
/// it. An item cut empty at the cap pauses its job (see ``ItemOutcome/Result/capped(_:)``):
/// its rows would otherwise fail one by one, each after paying for the cap.
public enum ReplyBudget {
    /// The cap a spec that sets none gets: what today's reasoning models commonly allow a
    /// reply (and far above what a row's answer needs).
    public static let defaultCap = 32_768

    /// Whether a reply is one cut at its limit before it said anything.
    public static func isCutEmpty(text: String, finishReason: String?) -> Bool {
        (finishReason == "length" || finishReason == "max_tokens") && text.allSatisfy(\.isWhitespace)
    }

    /// The next limit for a reply cut empty at `limit` (`nil`: the request set none) after
    /// using `used` tokens: double, at most `cap`, and no more than `tokensLeft` of the job's
    /// token budget (`nil`: no budget). `nil` when it cannot grow.
    public static func next(after limit: Int?, used: Int, cap: Int, tokensLeft: Int?) -> Int? {
        let current = max(limit ?? used, used, 1)
        let doubled = current > cap / 2 ? cap : current * 2
        let next = min(doubled, tokensLeft ?? .max)
        return next > current ? next : nil
    }
}
