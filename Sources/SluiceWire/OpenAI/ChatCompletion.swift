public import SluiceCore

/// A `/v1/chat/completions` reply: read from a provider (the first choice's text, the token
/// usage, the model that answered) and written into a batch's output file for a succeeded
/// line, whole, as OpenAI writes it.
public struct ChatCompletion: Codable, Sendable, Equatable {
    public struct Choice: Codable, Sendable, Equatable {
        var index: Int?
        var message: Message?
        var finishReason: String?

        enum CodingKeys: String, CodingKey {
            case index, message, logprobs
            case finishReason = "finish_reason"
        }

        init(index: Int, message: Message, finishReason: String) {
            self.index = index
            self.message = message
            self.finishReason = finishReason
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            index = try? container.decodeIfPresent(Int.self, forKey: .index)
            message = try container.decodeIfPresent(Message.self, forKey: .message)
            finishReason = try? container.decodeIfPresent(String.self, forKey: .finishReason)
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(index, forKey: .index)
            try container.encode(message, forKey: .message)
            try container.encodeNil(forKey: .logprobs)
            try container.encode(finishReason, forKey: .finishReason)
        }
    }

    public struct Message: Codable, Sendable, Equatable {
        var role: String?
        var content: String?
        var toolCalls: [ToolCall] = []

        enum CodingKeys: String, CodingKey {
            case role, content, refusal
            case toolCalls = "tool_calls"
        }

        init(role: String, content: String?, toolCalls: [ToolCall] = []) {
            self.role = role
            self.content = content
            self.toolCalls = toolCalls
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            role = try? container.decodeIfPresent(String.self, forKey: .role)
            content = try container.decodeIfPresent(String.self, forKey: .content)
            // A call is kept only whole: its id, its function's name and its arguments' text.
            let calls = (try? container.decodeIfPresent([JSONValue].self, forKey: .toolCalls)) ?? []
            toolCalls = calls.compactMap { call in
                guard let id = call["id"]?.stringValue, let name = call["function"]?["name"]?.stringValue,
                    let arguments = call["function"]?["arguments"]?.stringValue
                else { return nil }
                return ToolCall(id: id, name: name, arguments: arguments)
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(role, forKey: .role)
            try container.encode(content, forKey: .content)
            try container.encodeNil(forKey: .refusal)
            if !toolCalls.isEmpty {
                try container.encode(
                    toolCalls.map { call -> JSONValue in
                        [
                            "id": .string(call.id), "type": "function",
                            "function": ["name": .string(call.name), "arguments": .string(call.arguments)],
                        ]
                    }, forKey: .toolCalls)
            }
        }
    }

    public var id: String?
    public var created: Int?
    public var model: String?
    var choices: [Choice]?
    var reportedUsage: OpenAIUsage?
    /// The tier the call was served at (`default`, `flex`, `priority`), when the server says.
    public var serviceTier: String?

    enum CodingKeys: String, CodingKey {
        case id, object, created, model, choices
        case reportedUsage = "usage"
        case serviceTier = "service_tier"
    }

    /// A reply of `text` (and any tool calls) that ended for `finishReason`, as a batch's output
    /// file gives it; content is null for a reply of calls alone, as OpenAI writes it.
    public init(
        id: String, created: Int, model: String, text: String, usage: TokenUsage, finishReason: String, toolCalls: [ToolCall] = []
    ) {
        self.id = id
        self.created = created
        self.model = model
        let content: String? = text.isEmpty && !toolCalls.isEmpty ? nil : text
        choices = [
            Choice(index: 0, message: Message(role: "assistant", content: content, toolCalls: toolCalls), finishReason: finishReason)
        ]
        reportedUsage = OpenAIUsage(usage)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try? container.decodeIfPresent(String.self, forKey: .id)
        created = try? container.decodeIfPresent(Int.self, forKey: .created)
        model = try? container.decodeIfPresent(String.self, forKey: .model)
        choices = try container.decodeIfPresent([Choice].self, forKey: .choices)
        reportedUsage = try? container.decodeIfPresent(OpenAIUsage.self, forKey: .reportedUsage)
        serviceTier = try? container.decodeIfPresent(String.self, forKey: .serviceTier)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode("chat.completion", forKey: .object)
        try container.encode(created, forKey: .created)
        try container.encode(model, forKey: .model)
        try container.encode(choices ?? [], forKey: .choices)
        try container.encode(reportedUsage ?? OpenAIUsage(TokenUsage()), forKey: .reportedUsage)
        try container.encodeIfPresent(serviceTier, forKey: .serviceTier)
    }

    /// The first choice's text, when the reply has one.
    public var text: String? { choices?.first?.message?.content }

    /// The first choice's tool calls.
    public var toolCalls: [ToolCall] { choices?.first?.message?.toolCalls ?? [] }

    public var usage: TokenUsage { reportedUsage?.tokens ?? TokenUsage() }

    /// Why the first choice ended (`stop`, `length`, `content_filter`…), when the reply says.
    public var finishReason: String? { choices?.first?.finishReason }
}
