/// Anthropic's Messages request (a Message Batches request's `params`), as its API reference
/// checks it: `model`, `max_tokens` and alternating `messages` required; `system` a string or
/// text blocks; only text content.
enum MessagesBody {
    /// Sampling fields passed to the provider as they are.
    static let passed: Set<String> = ["temperature", "top_p", "top_k", "stop_sequences", "metadata"]

    static func modelRequest(_ params: JSONObject) throws(SpecError) -> ModelRequest {
        let model = try RequestBody.model(params)
        guard let maxTokens = params["max_tokens"]?.intValue, maxTokens >= 1 else {
            throw SpecError(field: "max_tokens", message: "Field required: a positive integer")
        }
        try RequestBody.refuseStreaming(params)
        let known = passed.union(["model", "max_tokens", "messages", "system", "stream"])
        if let unsupported = params.keys.first(where: { !known.contains($0) }) {
            throw SpecError(field: unsupported, message: "is not supported in a Sluice batch")
        }
        guard case .array(let list)? = params["messages"], !list.isEmpty else {
            throw SpecError(field: "messages", message: "must be a non-empty array of messages")
        }
        var messages: [ChatMessage] = []
        for (index, message) in list.enumerated() {
            let field = "messages.\(index)"
            let content = try RequestBody.text(of: message["content"], field: field + ".content", partTypes: ["text"])
            switch message["role"]?.stringValue {
            case "user"?: messages.append(ChatMessage(role: .user, content: content))
            case "assistant"?: messages.append(ChatMessage(role: .assistant, content: content))
            default: throw SpecError(field: field + ".role", message: "must be 'user' or 'assistant'")
            }
        }
        guard messages.first?.role == .user else {
            throw SpecError(field: "messages.0.role", message: "the first message must use the 'user' role")
        }
        var system: [String] = []
        if let value = params["system"], value != .null {
            system.append(try RequestBody.text(of: value, field: "system", partTypes: ["text"]))
        }
        var passedParams = JSONObject([("max_tokens", .int(maxTokens))])
        for key in passed.sorted() {
            if let value = params[key], value != .null { passedParams[key] = value }
        }
        return RequestBody.chat(model: model, system: system, messages: messages, params: passedParams)
    }
}
