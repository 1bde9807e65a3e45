public import SluiceCore

/// A `/v1/chat/completions` request: what an OpenAI batch line's body holds, and what the
/// OpenAI-compatible provider sends.
public struct ChatCompletionsRequest: Codable, Sendable, Equatable {
    public struct Message: Codable, Sendable, Equatable {
        var role: String?
        var content: TextContent?
        /// An assistant turn's calls: `{"id", "type": "function", "function": {"name", "arguments"}}`.
        var toolCalls: [JSONValue]?
        /// A `tool` turn's: the call it answers.
        var toolCallID: String?

        enum CodingKeys: String, CodingKey {
            case role, content
            case toolCalls = "tool_calls"
            case toolCallID = "tool_call_id"
        }

        init(role: String, content: TextContent?, toolCalls: [JSONValue]? = nil, toolCallID: String? = nil) {
            self.role = role
            self.content = content
            self.toolCalls = toolCalls
            self.toolCallID = toolCallID
        }

        /// A neutral message as chat completions write it: a tool turn is one `tool` message a
        /// result (a failed one's text marked, as the API has no flag for it); an assistant's
        /// calls are its `tool_calls`.
        static func written(_ message: ChatMessage) -> [Message] {
            switch message.role {
            case .tool:
                return message.parts.compactMap { part in
                    guard case .toolResult(let id, let text, let isError) = part else { return nil }
                    return Message(role: "tool", content: .string(isError ? "Error: " + text : text), toolCallID: id)
                }
            case .assistant where !message.toolCalls.isEmpty:
                let text = message.content
                return [
                    Message(
                        role: "assistant", content: text.isEmpty ? nil : .string(text),
                        toolCalls: message.toolCalls.map { call in
                            [
                                "id": .string(call.id), "type": "function",
                                "function": ["name": .string(call.name), "arguments": .string(call.arguments)],
                            ]
                        })
                ]
            default: return [Message(role: message.role.rawValue, content: TextContent(chatCompletions: message))]
            }
        }
    }

    var model: String
    var messages: [Message]
    /// Every other member, in the request's order: sampling and length parameters, and
    /// `response_format`.
    var params: JSONObject

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, messages
    }

    /// The body the OpenAI-compatible provider sends for `request`. When the call has an output
    /// schema and sets no format itself, asks for `strictSchema` to be enforced (`json_schema`,
    /// `strict: true`; see ``StrictSchema``) or, without one, for JSON mode (`json_object`: the
    /// schema is in the system prompt, and every server of the API accepts it). A
    /// `promptCacheKey` routes calls sharing a prefix to the same prompt cache.
    public init(_ request: ModelRequest, strictSchema: JSONValue? = nil, promptCacheKey: String? = nil, serviceTier: String? = nil) {
        model = request.model
        messages =
            (request.system.map { [Message(role: "system", content: .string($0))] } ?? []) + request.messages.flatMap(Message.written)
        params = JSONObject(request.params.filter { $0.key != "model" && $0.key != "messages" })
        if !request.tools.isEmpty {
            params["tools"] = .array(
                request.tools.map { tool in
                    var function = JSONObject([("name", .string(tool.name))])
                    if let description = tool.description { function["description"] = .string(description) }
                    function["parameters"] = tool.parameters
                    if let strict = tool.strict { function["strict"] = .bool(strict) }
                    return ["type": "function", "function": .object(function)]
                })
            switch request.toolChoice {
            case nil: break
            case .auto?: params["tool_choice"] = "auto"
            case .never?: params["tool_choice"] = "none"
            case .required?: params["tool_choice"] = "required"
            case .tool(let name)?: params["tool_choice"] = ["type": "function", "function": ["name": .string(name)]]
            }
            if let parallel = request.parallelToolCalls { params["parallel_tool_calls"] = .bool(parallel) }
        }
        if request.outputSchema != nil, params["response_format"] == nil {
            params["response_format"] =
                strictSchema.map { ["type": "json_schema", "json_schema": ["name": "sluice_output", "strict": true, "schema": $0]] }
                ?? ["type": "json_object"]
        }
        if let promptCacheKey { params["prompt_cache_key"] = .string(promptCacheKey) }
        if let serviceTier { params["service_tier"] = .string(serviceTier) }
    }

    /// Why `request` has no faithful chat completions form, if it has none: a document by URL
    /// (the chat API takes a PDF's bytes, not its address).
    public static func refusal(for request: ModelRequest) -> String? {
        for message in request.messages where !message.isText {
            for case .document(let document) in message.parts {
                if case .url = document.source { return "a document given by URL has no OpenAI chat completions form (send its bytes)" }
            }
        }
        return nil
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try ChatRequest.model(container.decodeIfPresent(String.self, forKey: .model), in: container.codingPath)
        messages = try container.decodeIfPresent([Message].self, forKey: .messages) ?? []
        guard !messages.isEmpty else {
            throw WireError(at: container.codingPath + [CodingKeys.messages], "must be a non-empty array of messages")
        }
        params = try ChatRequest.others(in: decoder, besides: CodingKeys.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(model, forKey: .model)
        try container.encode(messages, forKey: .messages)
        var others = encoder.container(keyedBy: JSONKey.self)
        for (key, value) in params { try others.encode(value, forKey: JSONKey(stringValue: key)) }
    }

    /// The provider-neutral call a batch line's body asks for: `system` and `developer` turns
    /// become the system prompt, and only the parameters Sluice passes on are allowed. A
    /// `prompt_cache_key` is taken and set aside: Sluice routes a batch's calls to one prompt
    /// cache with its own key (a client such as another Sluice sends one with every line).
    public static func modelRequest(body: JSONObject) throws(SpecError) -> ModelRequest {
        let request: Self
        do { request = try WireDecoder.decode(Self.self, from: .object(body)) } catch { throw error.specError(bracketed: true) }
        var given = request.params
        given["prompt_cache_key"] = nil
        let tools = try WireTools.openAI(given["tools"], field: "tools", flat: false)
        let choice = try WireTools.openAIChoice(given["tool_choice"], tools: tools, field: "tool_choice")
        var parallel: Bool?
        switch given["parallel_tool_calls"] {
        case nil, .null?: break
        case .bool(let allowed)?: parallel = allowed
        default: throw SpecError(field: "parallel_tool_calls", message: "must be true or false")
        }
        for key in ["tools", "tool_choice", "parallel_tool_calls"] { given[key] = nil }
        let params = try ModelParams.checked(given, allowed: ModelParams.chat, field: "")
        var system: [String] = []
        var messages: [ChatMessage] = []
        var calls: Set<String> = []
        for (index, message) in request.messages.enumerated() {
            guard let role = message.role else { throw SpecError(field: "messages[\(index)].role", message: "a role is required") }
            let field = "messages[\(index)].content"
            let text = { () throws(SpecError) -> String in
                guard let content = message.content else {
                    throw SpecError(field: field, message: "must be a string or an array of text parts")
                }
                return try TextContent.reading(field, bracketed: true) { () throws(WireError) in
                    try content.text(partTypes: ["text"], at: [])
                }
            }
            switch role {
            case "system", "developer": system.append(try text())
            case "user":
                guard let content = message.content else { throw SpecError(field: field, message: "must be a string or an array of parts") }
                let parts = try TextContent.reading(field, bracketed: true) { () throws(WireError) in
                    try content.parts(textTypes: ["text"], at: [])
                }
                messages.append(ChatMessage(role: .user, parts: parts))
            case "assistant" where message.toolCalls?.isEmpty == false:
                var parts: [ChatMessage.Part] = []
                if message.content != nil, case let said = try text(), !said.isEmpty { parts.append(.text(said)) }
                for (number, call) in (message.toolCalls ?? []).enumerated() {
                    guard call["type"] == "function", let id = call["id"]?.stringValue, let name = call["function"]?["name"]?.stringValue,
                        let arguments = call["function"]?["arguments"]?.stringValue
                    else {
                        throw SpecError(
                            field: "messages[\(index)].tool_calls[\(number)]",
                            message: "must be {\"id\", \"type\": \"function\", \"function\": {\"name\", \"arguments\"}}")
                    }
                    calls.insert(id)
                    parts.append(.toolCall(ToolCall(id: id, name: name, arguments: arguments)))
                }
                messages.append(ChatMessage(role: .assistant, parts: parts))
            case "assistant": messages.append(ChatMessage(role: .assistant, content: try text()))
            case "tool":
                guard let id = message.toolCallID, calls.contains(id) else {
                    throw SpecError(
                        field: "messages[\(index)].tool_call_id", message: "must answer a tool call an earlier assistant message made")
                }
                messages.append(ChatMessage(role: .tool, parts: [.toolResult(callID: id, text: try text(), isError: false)]))
            default:
                throw SpecError(
                    field: "messages[\(index)].role", message: "role '\(role)' is not supported (system, developer, user, assistant, tool)")
            }
        }
        guard messages.contains(where: { $0.role == .user }) else {
            throw SpecError(field: "messages", message: "at least one user message is required")
        }
        var call = ChatRequest.modelRequest(model: request.model, system: system, messages: messages, params: params)
        (call.tools, call.toolChoice, call.parallelToolCalls) = (tools, choice, parallel)
        return call
    }
}
