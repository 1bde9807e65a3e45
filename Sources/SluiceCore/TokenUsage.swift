/// Tokens spent, as the provider reported them.
///
/// `promptTokens` counts every input token, however billed: of them, `cachedTokens` were read
/// from the provider's prompt cache (billed at a fraction) and `cacheWriteTokens` written to it
/// (billed at a premium by Anthropic). `completionTokens` counts every output token, of them
/// `reasoningTokens` spent thinking before the answer.
public struct TokenUsage: Sendable, Equatable, Codable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var cachedTokens: Int
    public var cacheWriteTokens: Int
    public var reasoningTokens: Int

    public init(
        promptTokens: Int = 0, completionTokens: Int = 0, cachedTokens: Int = 0, cacheWriteTokens: Int = 0, reasoningTokens: Int = 0
    ) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.cachedTokens = cachedTokens
        self.cacheWriteTokens = cacheWriteTokens
        self.reasoningTokens = reasoningTokens
    }

    public static func + (lhs: TokenUsage, rhs: TokenUsage) -> TokenUsage {
        TokenUsage(
            promptTokens: lhs.promptTokens + rhs.promptTokens, completionTokens: lhs.completionTokens + rhs.completionTokens,
            cachedTokens: lhs.cachedTokens + rhs.cachedTokens, cacheWriteTokens: lhs.cacheWriteTokens + rhs.cacheWriteTokens,
            reasoningTokens: lhs.reasoningTokens + rhs.reasoningTokens)
    }

    /// One of `count` equal shares, the remainders on the `first` (so shares add up exactly):
    /// what each row of a packed call is charged.
    public func share(of count: Int, first: Bool) -> TokenUsage {
        func part(_ total: Int) -> Int { total / count + (first ? total % count : 0) }
        return TokenUsage(
            promptTokens: part(promptTokens), completionTokens: part(completionTokens), cachedTokens: part(cachedTokens),
            cacheWriteTokens: part(cacheWriteTokens), reasoningTokens: part(reasoningTokens))
    }

    /// The two counts a result line carries, as the results contract fixes them (the job's
    /// usage gives the parts too).
    public var json: JSONValue {
        ["prompt_tokens": .int(promptTokens), "completion_tokens": .int(completionTokens)]
    }
}
