import SluiceCore

/// OpenAI's usage block of a completion or an embeddings list. Read loosely: an absent or
/// malformed count reads as zero (servers that speak the API loosely report them so) rather
/// than failing a call already paid for.
struct OpenAIUsage: Codable, Sendable, Equatable {
    var promptTokens: Int?
    var completionTokens: Int?
    /// An embeddings list's usage has no completion count.
    var hasCompletion = true

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case totalTokens = "total_tokens"
    }

    init(_ usage: TokenUsage, hasCompletion: Bool = true) {
        promptTokens = usage.promptTokens
        completionTokens = usage.completionTokens
        self.hasCompletion = hasCompletion
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        promptTokens = try? container.decodeIfPresent(Int.self, forKey: .promptTokens)
        completionTokens = try? container.decodeIfPresent(Int.self, forKey: .completionTokens)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        let tokens = self.tokens
        try container.encode(tokens.promptTokens, forKey: .promptTokens)
        if hasCompletion { try container.encode(tokens.completionTokens, forKey: .completionTokens) }
        try container.encode(tokens.promptTokens + tokens.completionTokens, forKey: .totalTokens)
    }

    var tokens: TokenUsage { TokenUsage(promptTokens: promptTokens ?? 0, completionTokens: completionTokens ?? 0) }
}
