public import SluiceCore

/// A `/v1/chat/completions` request: what an OpenAI batch line's body holds, and what the
/// OpenAI-compatible provider sends.
public struct ChatCompletionsRequest: Codable, Sendable, Equatable {
    public struct Message: Codable, Sendable, Equatable {
        var role: String?
        var content: TextContent?
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
            (request.system.map { [Message(role: "system", content: .string($0))] } ?? [])
            + request.messages.map { Message(role: $0.role.rawValue, content: TextContent(chatCompletions: $0)) }
        params = JSONObject(request.params.filter { $0.key != "model" && $0.key != "messages" })
        if request.outputSchema != nil, params["response_format"] == nil {
            params["response_format"] =
                strictSchema.map { ["type": "json_schema", "json_schema": ["name": "sluice_output", "strict": true, "schema": $0]] }
                ?? ["type": "json_object"]
        }
        if let promptCacheKey { params["prompt_cache_key"] = .string(promptCacheKey) }
        if let serviceTier { params["service_tier"] = .string(serviceTier) }
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
        let params = try ModelParams.checked(given, allowed: ModelParams.chat, field: "")
        var system: [String] = []
        var messages: [ChatMessage] = []
        for (index, message) in request.messages.enumerated() {
            guard let role = message.role else { throw SpecError(field: "messages[\(index)].role", message: "a role is required") }
            let field = "messages[\(index)].content"
            guard let content = message.content else {
                throw SpecError(field: field, message: "must be a string or an array of text parts")
            }
            let text = { () throws(SpecError) in
                try TextContent.reading(field, bracketed: true) { () throws(WireError) in try content.text(partTypes: ["text"], at: []) }
            }
            switch role {
            case "system", "developer": system.append(try text())
            case "user":
                let parts = try TextContent.reading(field, bracketed: true) { () throws(WireError) in
                    try content.parts(textTypes: ["text"], at: [])
                }
                messages.append(ChatMessage(role: .user, parts: parts))
            case "assistant": messages.append(ChatMessage(role: .assistant, content: try text()))
            default:
                throw SpecError(
                    field: "messages[\(index)].role", message: "role '\(role)' is not supported (system, developer, user, assistant)")
            }
        }
        guard !messages.isEmpty else { throw SpecError(field: "messages", message: "at least one user message is required") }
        return ChatRequest.modelRequest(model: request.model, system: system, messages: messages, params: params)
    }
}
