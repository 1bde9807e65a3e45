public import SluiceCore

/// A `/v1/responses` request, run as a chat call: `instructions` is the system prompt,
/// `input` a string or a list of messages, `max_output_tokens` the reply's limit.
public struct ResponsesRequest: Decodable, Sendable, Equatable {
    /// One entry of `input`: a message, a function call the model made, or a call's output.
    struct InputItem: Decodable, Sendable, Equatable {
        var type: String?
        var role: String?
        var content: TextContent?
        var callID: String?
        var name: String?
        var arguments: String?
        var output: String?

        enum CodingKeys: String, CodingKey {
            case type, role, content, name, arguments, output
            case callID = "call_id"
        }
    }

    enum Input: Sendable, Equatable {
        case text(String)
        case items([InputItem])
    }

    var model: String
    var input: Input
    var instructions: String?
    var maxOutputTokens: Int?
    /// The sampling fields given, passed to the provider as they are.
    var params: JSONObject
    /// Function tools, how to choose among them, whether several calls may come at once.
    var tools: JSONValue?
    var toolChoice: JSONValue?
    var parallelToolCalls: Bool?

    /// Every field accepted; `store`, `metadata` and `user` only change what OpenAI keeps or
    /// reports, so they are accepted and not sent on.
    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, input, instructions, store, metadata, user, stream, temperature, tools
        case maxOutputTokens = "max_output_tokens"
        case topP = "top_p"
        case toolChoice = "tool_choice"
        case parallelToolCalls = "parallel_tool_calls"
    }

    static let passed: [CodingKeys] = [.temperature, .topP]

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try ChatRequest.model(container.decodeIfPresent(String.self, forKey: .model), in: container.codingPath)
        try ChatRequest.refuseStreaming(try? container.decodeIfPresent(Bool.self, forKey: .stream), in: container.codingPath)
        if let unsupported = try ChatRequest.others(in: decoder, besides: CodingKeys.self).keys.first {
            throw WireError(
                at: container.codingPath + [JSONKey(stringValue: unsupported)],
                "is not supported in a Sluice batch (model, input, instructions, max_output_tokens, temperature, top_p, tools, tool_choice, parallel_tool_calls)"
            )
        }
        instructions = try container.decodeIfPresent(String.self, forKey: .instructions)
        if let text = try? container.decode(String.self, forKey: .input) {
            input = .text(text)
        } else if let items = try? container.decode([InputItem].self, forKey: .input), !items.isEmpty {
            input = .items(items)
        } else {
            throw WireError(at: container.codingPath + [CodingKeys.input], "must be a string or a non-empty array of messages")
        }
        if container.contains(.maxOutputTokens), try !container.decodeNil(forKey: .maxOutputTokens) {
            guard let tokens = try? container.decode(Int.self, forKey: .maxOutputTokens), tokens >= 1 else {
                throw WireError(at: container.codingPath + [CodingKeys.maxOutputTokens], "must be a positive integer")
            }
            maxOutputTokens = tokens
        }
        tools = try container.decodeIfPresent(JSONValue.self, forKey: .tools)
        toolChoice = try container.decodeIfPresent(JSONValue.self, forKey: .toolChoice)
        if container.contains(.parallelToolCalls), try !container.decodeNil(forKey: .parallelToolCalls) {
            guard let parallel = try? container.decode(Bool.self, forKey: .parallelToolCalls) else {
                throw WireError(at: container.codingPath + [CodingKeys.parallelToolCalls], "must be true or false")
            }
            parallelToolCalls = parallel
        }
        params = JSONObject()
        for key in Self.passed {
            if let value = try container.decodeIfPresent(JSONValue.self, forKey: key), value != .null { params[key.stringValue] = value }
        }
    }

    /// The provider-neutral call a batch line's body asks for.
    public static func modelRequest(body: JSONObject) throws(SpecError) -> ModelRequest {
        let request: Self
        do { request = try WireDecoder.decode(Self.self, from: .object(body)) } catch { throw error.specError(bracketed: true) }
        var system = request.instructions.map { [$0] } ?? []
        var messages: [ChatMessage] = []
        var calls: Set<String> = []
        switch request.input {
        case .text(let text): messages.append(ChatMessage(role: .user, content: text))
        case .items(let items):
            for (index, item) in items.enumerated() {
                switch item.type {
                case "function_call"?:
                    guard let id = item.callID, let name = item.name, let arguments = item.arguments else {
                        throw SpecError(field: "input[\(index)]", message: "a function_call item needs its call_id, name and arguments")
                    }
                    calls.insert(id)
                    let call = ChatMessage.Part.toolCall(ToolCall(id: id, name: name, arguments: arguments))
                    // Calls made together are one assistant turn.
                    if let last = messages.last, last.role == .assistant, !last.toolCalls.isEmpty {
                        messages[messages.count - 1].parts.append(call)
                    } else {
                        messages.append(ChatMessage(role: .assistant, parts: [call]))
                    }
                    continue
                case "function_call_output"?:
                    guard let id = item.callID, calls.contains(id) else {
                        throw SpecError(field: "input[\(index)].call_id", message: "must answer a function_call an earlier item made")
                    }
                    messages.append(ChatMessage(role: .tool, parts: [.toolResult(callID: id, text: item.output ?? "", isError: false)]))
                    continue
                case nil, "message"?: break
                case let type?:
                    throw SpecError(
                        field: "input[\(index)].type",
                        message: "'\(type)' items are not supported (message, function_call, function_call_output)")
                }
                let field = "input[\(index)].content"
                guard let content = item.content else {
                    throw SpecError(field: field, message: "must be a string or an array of text parts")
                }
                let textTypes: Set<String> = ["input_text", "output_text", "text"]
                let text = { () throws(SpecError) in
                    try TextContent.reading(field, bracketed: true) { () throws(WireError) in try content.text(partTypes: textTypes, at: [])
                    }
                }
                switch item.role {
                case "system", "developer": system.append(try text())
                case "user":
                    let parts = try TextContent.reading(field, bracketed: true) { () throws(WireError) in
                        try content.parts(textTypes: textTypes, at: [])
                    }
                    messages.append(ChatMessage(role: .user, parts: parts))
                case "assistant": messages.append(ChatMessage(role: .assistant, content: try text()))
                default: throw SpecError(field: "input[\(index)].role", message: "must be user, assistant, system or developer")
                }
            }
        }
        guard messages.contains(where: { $0.role == .user }) else {
            throw SpecError(field: "input", message: "at least one user message is required")
        }
        var params = request.params
        if let tokens = request.maxOutputTokens { params["max_tokens"] = .int(tokens) }
        var call = ChatRequest.modelRequest(model: request.model, system: system, messages: messages, params: params)
        call.tools = try WireTools.openAI(request.tools, field: "tools", flat: true)
        call.toolChoice = try WireTools.openAIChoice(request.toolChoice, tools: call.tools, field: "tool_choice")
        call.parallelToolCalls = request.parallelToolCalls
        return call
    }
}
