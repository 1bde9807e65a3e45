public import SluiceCore

/// A Messages reply: read from a provider (the text blocks, the token usage, the model that
/// answered) and written, whole, as a succeeded Message Batches result.
public struct MessagesReply: Codable, Sendable, Equatable {
    struct Block: Codable, Sendable, Equatable {
        var type: String?
        var text: String?
    }

    /// Anthropic's usage block; an absent or malformed count reads as zero rather than failing
    /// a call already paid for.
    struct Usage: Codable, Sendable, Equatable {
        var inputTokens: Int?
        var outputTokens: Int?

        enum CodingKeys: String, CodingKey {
            case inputTokens = "input_tokens"
            case outputTokens = "output_tokens"
        }

        init(_ usage: TokenUsage) {
            inputTokens = usage.promptTokens
            outputTokens = usage.completionTokens
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            inputTokens = try? container.decodeIfPresent(Int.self, forKey: .inputTokens)
            outputTokens = try? container.decodeIfPresent(Int.self, forKey: .outputTokens)
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

    /// A finished reply of `text`, as a Message Batches result gives it.
    public init(id: String, model: String, text: String, usage: TokenUsage) {
        self.id = id
        self.model = model
        content = [Block(type: "text", text: text)]
        stopReason = "end_turn"
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

    public var usage: TokenUsage {
        TokenUsage(promptTokens: reportedUsage?.inputTokens ?? 0, completionTokens: reportedUsage?.outputTokens ?? 0)
    }
}
