import SluiceCore

/// The usage block of OpenAI's newer objects (a response, a batch): input and output tokens
/// with their details — read from the prompt cache, spent reasoning. A response also says what
/// was written to the cache.
struct ResponsesUsage: Encodable, Sendable, Equatable {
    var tokens: TokenUsage
    var showsCacheWrites: Bool

    enum CodingKeys: String, CodingKey {
        case inputTokens = "input_tokens"
        case inputDetails = "input_tokens_details"
        case outputTokens = "output_tokens"
        case outputDetails = "output_tokens_details"
        case totalTokens = "total_tokens"
    }

    enum DetailKeys: String, CodingKey {
        case cachedTokens = "cached_tokens"
        case cacheWriteTokens = "cache_write_tokens"
        case reasoningTokens = "reasoning_tokens"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(tokens.promptTokens, forKey: .inputTokens)
        var input = container.nestedContainer(keyedBy: DetailKeys.self, forKey: .inputDetails)
        try input.encode(tokens.cachedTokens, forKey: .cachedTokens)
        if showsCacheWrites { try input.encode(tokens.cacheWriteTokens, forKey: .cacheWriteTokens) }
        try container.encode(tokens.completionTokens, forKey: .outputTokens)
        var output = container.nestedContainer(keyedBy: DetailKeys.self, forKey: .outputDetails)
        try output.encode(tokens.reasoningTokens, forKey: .reasoningTokens)
        try container.encode(tokens.promptTokens + tokens.completionTokens, forKey: .totalTokens)
    }
}
