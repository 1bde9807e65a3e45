public import SluiceCore

/// Anthropic's Messages request: a Message Batches request's `params`, checked as Anthropic's
/// API reference checks it (`model`, `max_tokens` and messages starting with a user turn
/// required; `system` a string or text blocks; only text content), and what the Anthropic
/// provider sends.
public struct MessagesRequest: Codable, Sendable, Equatable {
    public struct Message: Codable, Sendable, Equatable {
        var role: String?
        var content: TextContent?
    }

    var model: String
    var maxTokens: Int
    var system: TextContent?
    var messages: [Message]
    /// The sampling fields given (``passed``), sent as they are.
    var params: JSONObject
    /// Structured output: the strict schema the reply must follow (sent with the beta header
    /// ``structuredOutputsBeta``).
    var outputFormat: JSONValue?
    /// `{"name", "description", "input_schema"}` each, and how the model may choose among them.
    var tools: [JSONValue]?
    var toolChoice: JSONValue?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model
        case maxTokens = "max_tokens"
        case system, messages, stream, tools
        case outputFormat = "output_format"
        case toolChoice = "tool_choice"
    }

    /// Sampling fields passed to the provider as they are; OpenAI-only parameters would be
    /// refused by Anthropic.
    static let passed = ["temperature", "top_p", "top_k", "stop_sequences", "metadata"]
    /// Anthropic requires `max_tokens`; this is used when a call's params set none.
    public static let defaultMaxTokens = 1024
    /// The `anthropic-beta` value that turns structured outputs (`output_format`) on.
    public static let structuredOutputsBeta = "structured-outputs-2025-11-13"

    /// The body the Anthropic provider sends for `request`: the system prompt as its own
    /// field, and strictly alternating turns (consecutive turns of one role, such as a prompt
    /// followed by a correction, are joined). With `strictSchema`, the reply must follow it
    /// (`output_format`; see ``StrictSchema``). With `cacheTTL` (`5m` or `1h`), the system
    /// prompt — what every call of a job shares — is marked for the prompt cache.
    public init(_ request: ModelRequest, strictSchema: JSONValue? = nil, cacheTTL: String? = nil) {
        var turns: [Message] = []
        for message in request.messages where message.role != .system {
            let content = TextContent(messages: message)
            // A tool's results go back in a user turn, as `tool_result` blocks.
            let role = message.role == .tool ? "user" : message.role.rawValue
            guard let last = turns.last, last.role == role, let before = last.content else {
                turns.append(Message(role: role, content: content))
                continue
            }
            if case .string(let text) = before, case .string(let more) = content {
                turns[turns.count - 1].content = .string(text + "\n\n" + more)
            } else {
                turns[turns.count - 1].content = .parts(before.asParts + content.asParts)
            }
        }
        let systemParts = [request.system] + request.messages.filter { $0.role == .system }.map(\.content)
        let system = systemParts.compactMap { $0 }.joined(separator: "\n\n")
        model = request.model
        maxTokens =
            request.params["max_tokens"]?.intValue ?? request.params["max_completion_tokens"]?.intValue ?? Self.defaultMaxTokens
        if system.isEmpty {
            self.system = nil
        } else if let cacheTTL {
            let marker: JSONValue = cacheTTL == "5m" ? ["type": "ephemeral"] : ["type": "ephemeral", "ttl": .string(cacheTTL)]
            self.system = .parts([TextContent.Part(type: "text", text: system, cacheControl: marker)])
        } else {
            self.system = .string(system)
        }
        messages = turns
        params = JSONObject(Self.passed.compactMap { key in request.params[key].map { (key, $0) } })
        outputFormat = strictSchema.map { ["type": "json_schema", "schema": $0] }
        if !request.tools.isEmpty {
            tools = request.tools.map { tool in
                var object = JSONObject([("name", .string(tool.name))])
                if let description = tool.description { object["description"] = .string(description) }
                object["input_schema"] = tool.parameters
                return .object(object)
            }
            var choice: JSONObject?
            switch request.toolChoice {
            case nil: choice = nil
            case .auto?: choice = JSONObject([("type", "auto")])
            case .never?: choice = JSONObject([("type", "none")])
            case .required?: choice = JSONObject([("type", "any")])
            case .tool(let name)?: choice = JSONObject([("type", "tool"), ("name", .string(name))])
            }
            // One call at a time is said inside the choice (not allowed beside `none`).
            if request.parallelToolCalls == false, request.toolChoice != .never {
                choice = (choice ?? JSONObject([("type", "auto")])).with("disable_parallel_tool_use", true)
            }
            toolChoice = choice.map(JSONValue.object)
        }
    }

    /// Why `request` has no faithful Messages form, if it has none: a tool call whose arguments
    /// are not a JSON object (Anthropic's `input` must be one).
    public static func refusal(for request: ModelRequest) -> String? {
        for message in request.messages where message.role == .assistant {
            for call in message.toolCalls {
                guard case .object? = try? JSONParser.parse(call.arguments) else {
                    return "tool call \(call.id)'s arguments are not a JSON object, which Anthropic's tool_use input must be"
                }
            }
        }
        return nil
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try ChatRequest.model(container.decodeIfPresent(String.self, forKey: .model), in: container.codingPath)
        guard let maxTokens = try? container.decode(Int.self, forKey: .maxTokens), maxTokens >= 1 else {
            throw WireError(at: container.codingPath + [CodingKeys.maxTokens], "Field required: a positive integer")
        }
        self.maxTokens = maxTokens
        try ChatRequest.refuseStreaming(try? container.decodeIfPresent(Bool.self, forKey: .stream), in: container.codingPath)
        let others = try ChatRequest.others(in: decoder, besides: CodingKeys.self)
        if let unsupported = others.keys.first(where: { !Self.passed.contains($0) })
            ?? (container.contains(.outputFormat) ? CodingKeys.outputFormat.stringValue : nil)
        {
            throw WireError(at: container.codingPath + [JSONKey(stringValue: unsupported)], "is not supported in a Sluice batch")
        }
        messages = try container.decodeIfPresent([Message].self, forKey: .messages) ?? []
        guard !messages.isEmpty else {
            throw WireError(at: container.codingPath + [CodingKeys.messages], "must be a non-empty array of messages")
        }
        system = try container.decodeIfPresent(TextContent.self, forKey: .system)
        tools = try container.decodeIfPresent([JSONValue].self, forKey: .tools)
        toolChoice = try container.decodeIfPresent(JSONValue.self, forKey: .toolChoice)
        params = JSONObject(Self.passed.compactMap { key in others[key].flatMap { $0 == .null ? nil : (key, $0) } })
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(model, forKey: .model)
        try container.encode(maxTokens, forKey: .maxTokens)
        try container.encodeIfPresent(system, forKey: .system)
        try container.encode(messages, forKey: .messages)
        try container.encodeIfPresent(outputFormat, forKey: .outputFormat)
        try container.encodeIfPresent(tools, forKey: .tools)
        try container.encodeIfPresent(toolChoice, forKey: .toolChoice)
        var others = encoder.container(keyedBy: JSONKey.self)
        for (key, value) in params { try others.encode(value, forKey: JSONKey(stringValue: key)) }
    }

    /// The provider-neutral call a Message Batches request's `params` ask for.
    public static func modelRequest(params: JSONObject) throws(SpecError) -> ModelRequest {
        let request: Self
        do { request = try WireDecoder.decode(Self.self, from: .object(params)) } catch { throw error.specError(bracketed: false) }
        var messages: [ChatMessage] = []
        var calls: Set<String> = []
        for (index, message) in request.messages.enumerated() {
            let field = "messages.\(index)"
            guard let given = message.content else {
                throw SpecError(field: field + ".content", message: "must be a string or an array of text parts")
            }
            let parts = try TextContent.reading(field + ".content", bracketed: false) { () throws(WireError) in
                try given.parts(textTypes: ["text"], at: [], vendor: .anthropic)
            }
            switch message.role {
            case "user"?:
                // A user turn's tool results are tool messages of their own, before its other parts.
                var rest: [ChatMessage.Part] = []
                for part in parts {
                    guard case .toolResult(let id, _, _) = part else {
                        rest.append(part)
                        continue
                    }
                    guard calls.contains(id) else {
                        throw SpecError(field: field + ".content", message: "tool_result \(id) answers no tool_use of the turn before")
                    }
                    messages.append(ChatMessage(role: .tool, parts: [part]))
                }
                if !rest.isEmpty { messages.append(ChatMessage(role: .user, parts: rest)) }
            case "assistant"?:
                guard parts.allSatisfy({ if case .text = $0 { true } else if case .toolCall = $0 { true } else { false } }) else {
                    throw SpecError(field: field + ".content", message: "an assistant turn holds only text and tool_use blocks")
                }
                let made = parts.compactMap { if case .toolCall(let call) = $0 { call.id } else { nil } }
                calls.formUnion(made)
                messages.append(
                    made.isEmpty
                        ? ChatMessage(role: .assistant, content: ChatMessage(role: .assistant, parts: parts).content)
                        : ChatMessage(role: .assistant, parts: parts))
            default: throw SpecError(field: field + ".role", message: "must be 'user' or 'assistant'")
            }
        }
        guard messages.first?.role == .user else {
            throw SpecError(field: "messages.0.role", message: "the first message must use the 'user' role")
        }
        var system: [String] = []
        if let given = request.system {
            do { system.append(try given.text(partTypes: ["text"], at: [])) } catch {
                throw SpecError(field: "system", message: error.message)
            }
        }
        var params = JSONObject([("max_tokens", .int(request.maxTokens))])
        for key in passed.sorted() {
            if let value = request.params[key] { params[key] = value }
        }
        let tools = try WireTools.anthropic(request.tools.map(JSONValue.array), field: "tools")
        let (choice, parallel) = try WireTools.anthropicChoice(request.toolChoice, tools: tools, field: "tool_choice")
        var call = ChatRequest.modelRequest(model: request.model, system: system, messages: messages, params: params)
        (call.tools, call.toolChoice, call.parallelToolCalls) = (tools, choice, parallel)
        return call
    }
}
