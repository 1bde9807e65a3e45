public import SluiceCore

/// A completed `/v1/responses` reply of one output message, as a batch's output file gives it
/// for a succeeded line. The request's `instructions`, limits, sampling fields and metadata
/// are echoed as OpenAI echoes them.
public struct ResponsesReply: Encodable, Sendable, Equatable {
    var id: String
    var createdAt: Int
    var model: String
    var messageID: String
    var text: String
    var usage: TokenUsage
    var request: JSONObject
    /// Calls the model made: each a `function_call` output item after any message.
    var toolCalls: [ToolCall]

    public init(
        id: String, messageID: String, createdAt: Int, model: String, text: String, usage: TokenUsage, request: JSONObject,
        toolCalls: [ToolCall] = []
    ) {
        self.id = id
        self.messageID = messageID
        self.createdAt = createdAt
        self.model = model
        self.text = text
        self.usage = usage
        self.request = request
        self.toolCalls = toolCalls
    }

    enum CodingKeys: String, CodingKey {
        case id, object, status, background, error, instructions, model, output, store, temperature, tools, text, truncation, usage
        case metadata
        case createdAt = "created_at"
        case incompleteDetails = "incomplete_details"
        case maxOutputTokens = "max_output_tokens"
        case parallelToolCalls = "parallel_tool_calls"
        case previousResponseID = "previous_response_id"
        case topP = "top_p"
        case toolChoice = "tool_choice"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode("response", forKey: .object)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode("completed", forKey: .status)
        try container.encode(false, forKey: .background)
        try container.encodeNil(forKey: .error)
        try container.encodeNil(forKey: .incompleteDetails)
        try container.encode(request["instructions"] ?? .null, forKey: .instructions)
        try container.encode(request["max_output_tokens"] ?? .null, forKey: .maxOutputTokens)
        try container.encode(model, forKey: .model)
        let content: JSONValue = [["type": "output_text", "text": .string(text), "annotations": []]]
        let message: JSONValue = [
            "type": "message", "id": .string(messageID), "status": "completed", "role": "assistant", "content": content,
        ]
        let calls: [JSONValue] = toolCalls.enumerated().map { number, call in
            [
                "type": "function_call", "id": .string("fc_\(messageID.dropFirst(4))_\(number)"), "call_id": .string(call.id),
                "name": .string(call.name), "arguments": .string(call.arguments), "status": "completed",
            ]
        }
        // A reply of calls alone has no message.
        try container.encode((text.isEmpty && !calls.isEmpty ? [] : [message]) + calls, forKey: .output)
        try container.encode(request["parallel_tool_calls"] ?? true, forKey: .parallelToolCalls)
        try container.encodeNil(forKey: .previousResponseID)
        try container.encode(false, forKey: .store)
        try container.encode(request["temperature"] ?? 1, forKey: .temperature)
        try container.encode(request["top_p"] ?? 1, forKey: .topP)
        try container.encode(request["tool_choice"] ?? "auto", forKey: .toolChoice)
        try container.encode(request["tools"] ?? [], forKey: .tools)
        try container.encode(["format": ["type": "text"]] as JSONValue, forKey: .text)
        try container.encode("disabled", forKey: .truncation)
        try container.encode(ResponsesUsage(tokens: usage, showsCacheWrites: true), forKey: .usage)
        try container.encode(request["metadata"] ?? [:], forKey: .metadata)
    }
}
