public import SluiceCore

/// A `/v1/responses` request, run as a chat call: `instructions` is the system prompt,
/// `input` a string or a list of messages, `max_output_tokens` the reply's limit.
public struct ResponsesRequest: Decodable, Sendable, Equatable {
    /// One entry of `input`: only messages are offered.
    struct InputItem: Decodable, Sendable, Equatable {
        var type: String?
        var role: String?
        var content: TextContent?
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

    /// Every field accepted; `store`, `metadata` and `user` only change what OpenAI keeps or
    /// reports, so they are accepted and not sent on.
    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, input, instructions, store, metadata, user, stream, temperature
        case maxOutputTokens = "max_output_tokens"
        case topP = "top_p"
    }

    static let passed: [CodingKeys] = [.temperature, .topP]

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try ChatRequest.model(container.decodeIfPresent(String.self, forKey: .model), in: container.codingPath)
        try ChatRequest.refuseStreaming(try? container.decodeIfPresent(Bool.self, forKey: .stream), in: container.codingPath)
        if let unsupported = try ChatRequest.others(in: decoder, besides: CodingKeys.self).keys.first {
            throw WireError(
                at: container.codingPath + [JSONKey(stringValue: unsupported)],
                "is not supported in a Sluice batch (model, input, instructions, max_output_tokens, temperature, top_p)")
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
        switch request.input {
        case .text(let text): messages.append(ChatMessage(role: .user, content: text))
        case .items(let items):
            for (index, item) in items.enumerated() {
                if let type = item.type, type != "message" {
                    throw SpecError(field: "input[\(index)].type", message: "only message items are supported")
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
        guard !messages.isEmpty else { throw SpecError(field: "input", message: "at least one user message is required") }
        var params = request.params
        if let tokens = request.maxOutputTokens { params["max_tokens"] = .int(tokens) }
        return ChatRequest.modelRequest(model: request.model, system: system, messages: messages, params: params)
    }
}
