public import SluiceCore

/// A Messages reply: read from a provider (the text blocks, the token usage, the model that
/// answered) and written, whole, as a succeeded Message Batches result.
public struct MessagesReply: Codable, Sendable, Equatable {
    struct Block: Codable, Sendable, Equatable {
        var type: String?
        var text: String?
        /// A `tool_use` block's call.
        var id: String?
        var name: String?
        var input: JSONValue?

        init(type: String, text: String? = nil, id: String? = nil, name: String? = nil, input: JSONValue? = nil) {
            self.type = type
            self.text = text
            self.id = id
            self.name = name
            self.input = input
        }
    }

    /// Anthropic's usage block. Its `input_tokens` leaves out the prompt tokens read from the
    /// cache and written to it, which it counts apart; Sluice's prompt tokens are all three.
    /// An absent or malformed count reads as zero rather than failing a call already paid for.
    struct Usage: Codable, Sendable, Equatable {
        var tokens: TokenUsage

        enum CodingKeys: String, CodingKey {
            case inputTokens = "input_tokens"
            case cacheCreationInputTokens = "cache_creation_input_tokens"
            case cacheReadInputTokens = "cache_read_input_tokens"
            case outputTokens = "output_tokens"
        }

        init(_ tokens: TokenUsage) {
            self.tokens = tokens
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            func count(_ key: CodingKeys) -> Int { max(0, (try? container.decodeIfPresent(Int.self, forKey: key)) ?? 0) }
            let (read, written) = (count(.cacheReadInputTokens), count(.cacheCreationInputTokens))
            tokens = TokenUsage(
                promptTokens: count(.inputTokens) + read + written, completionTokens: count(.outputTokens), cachedTokens: read,
                cacheWriteTokens: written)
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(max(0, tokens.promptTokens - tokens.cachedTokens - tokens.cacheWriteTokens), forKey: .inputTokens)
            try container.encode(tokens.cacheWriteTokens, forKey: .cacheCreationInputTokens)
            try container.encode(tokens.cachedTokens, forKey: .cacheReadInputTokens)
            try container.encode(tokens.completionTokens, forKey: .outputTokens)
        }
    }

    public var id: String?
    public var model: String?
    var content: [Block]
    var stopReason: String?
    var reportedUsage: Usage?

    enum CodingKeys: String, CodingKey {
        case id, type, role, model, content
        case stopReason = "stop_reason"
        case stopSequence = "stop_sequence"
        case reportedUsage = "usage"
    }

    /// A reply of `text` and any tool calls (their arguments written as `input` objects) that
    /// stopped for `stopReason`, as a Message Batches result gives it.
    public init(id: String, model: String, text: String, usage: TokenUsage, stopReason: String, toolCalls: [ToolCall] = []) {
        self.id = id
        self.model = model
        content =
            (text.isEmpty && !toolCalls.isEmpty ? [] : [Block(type: "text", text: text)])
            + toolCalls.map { Block(type: "tool_use", id: $0.id, name: $0.name, input: (try? JSONParser.parse($0.arguments)) ?? [:]) }
        self.stopReason = stopReason
        reportedUsage = Usage(usage)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try? container.decodeIfPresent(String.self, forKey: .id)
        model = try? container.decodeIfPresent(String.self, forKey: .model)
        content = try container.decode([Block].self, forKey: .content)
        stopReason = try? container.decodeIfPresent(String.self, forKey: .stopReason)
        reportedUsage = try? container.decodeIfPresent(Usage.self, forKey: .reportedUsage)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode("message", forKey: .type)
        try container.encode("assistant", forKey: .role)
        try container.encode(model, forKey: .model)
        try container.encode(content, forKey: .content)
        try container.encode(stopReason, forKey: .stopReason)
        try container.encodeNil(forKey: .stopSequence)
        try container.encode(reportedUsage ?? Usage(usage), forKey: .reportedUsage)
    }

    /// The text blocks joined, or `nil` when the reply has none.
    public var text: String? {
        let texts = content.filter { $0.type == "text" }
        guard !texts.isEmpty else { return nil }
        return texts.compactMap(\.text).joined()
    }

    public var usage: TokenUsage { reportedUsage?.tokens ?? TokenUsage() }

    /// Its `tool_use` blocks as calls, their `input` written out as the arguments' text.
    public var toolCalls: [ToolCall] {
        content.compactMap { block in
            guard block.type == "tool_use", let id = block.id, let name = block.name else { return nil }
            return ToolCall(id: id, name: name, arguments: JSONWriter.string(block.input ?? [:]))
        }
    }

    /// Why the reply stopped (`end_turn`, `max_tokens`, `stop_sequence`…), when it says.
    public var finishReason: String? { stopReason }
}
