import SluiceCore

/// OpenAI's usage block of a completion or an embeddings list, with its details: prompt
/// tokens read from the prompt cache, completion tokens spent reasoning. Read loosely: an
/// absent or malformed count reads as zero (servers that speak the API loosely report them so)
/// rather than failing a call already paid for.
struct OpenAIUsage: Codable, Sendable, Equatable {
    var tokens: TokenUsage
    /// An embeddings list's usage has no completion count and no details.
    var hasCompletion = true

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case totalTokens = "total_tokens"
        case promptDetails = "prompt_tokens_details"
        case completionDetails = "completion_tokens_details"
    }

    enum DetailKeys: String, CodingKey {
        case cachedTokens = "cached_tokens"
        case reasoningTokens = "reasoning_tokens"
    }

    init(_ tokens: TokenUsage, hasCompletion: Bool = true) {
        self.tokens = tokens
        self.hasCompletion = hasCompletion
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func count(_ read: () throws -> Int?) -> Int { max(0, (try? read()) ?? 0) }
        let prompt = try? container.nestedContainer(keyedBy: DetailKeys.self, forKey: .promptDetails)
        let completion = try? container.nestedContainer(keyedBy: DetailKeys.self, forKey: .completionDetails)
        tokens = TokenUsage(
            promptTokens: count { try container.decodeIfPresent(Int.self, forKey: .promptTokens) },
            completionTokens: count { try container.decodeIfPresent(Int.self, forKey: .completionTokens) },
            cachedTokens: count { try prompt?.decodeIfPresent(Int.self, forKey: .cachedTokens) },
            reasoningTokens: count { try completion?.decodeIfPresent(Int.self, forKey: .reasoningTokens) })
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(tokens.promptTokens, forKey: .promptTokens)
        guard hasCompletion else {
            try container.encode(tokens.promptTokens, forKey: .totalTokens)
            return
        }
        try container.encode(tokens.completionTokens, forKey: .completionTokens)
        try container.encode(tokens.promptTokens + tokens.completionTokens, forKey: .totalTokens)
        var prompt = container.nestedContainer(keyedBy: DetailKeys.self, forKey: .promptDetails)
        try prompt.encode(tokens.cachedTokens, forKey: .cachedTokens)
        var completion = container.nestedContainer(keyedBy: DetailKeys.self, forKey: .completionDetails)
        try completion.encode(tokens.reasoningTokens, forKey: .reasoningTokens)
    }
}
