/// A `/v1/chat/completions` request body.
enum ChatCompletionsBody {
    static func modelRequest(_ body: JSONObject) throws(SpecError) -> ModelRequest {
        let model = try RequestBody.model(body)
        guard case .array(let list)? = body["messages"], !list.isEmpty else {
            throw SpecError(field: "messages", message: "must be a non-empty array of messages")
        }
        var params = body
        for key in ["model", "messages"] { params[key] = nil }
        params = try ModelParams.checked(params, allowed: ModelParams.chat, field: "")
        var system: [String] = []
        var messages: [ChatMessage] = []
        for (index, message) in list.enumerated() {
            guard let role = message["role"]?.stringValue else {
                throw SpecError(field: "messages[\(index)].role", message: "a role is required")
            }
            let content = try RequestBody.text(of: message["content"], field: "messages[\(index)].content", partTypes: ["text"])
            switch role {
            case "system", "developer": system.append(content)
            case "user": messages.append(ChatMessage(role: .user, content: content))
            case "assistant": messages.append(ChatMessage(role: .assistant, content: content))
            default:
                throw SpecError(
                    field: "messages[\(index)].role", message: "role '\(role)' is not supported (system, developer, user, assistant)")
            }
        }
        guard !messages.isEmpty else { throw SpecError(field: "messages", message: "at least one user message is required") }
        return RequestBody.chat(model: model, system: system, messages: messages, params: params)
    }
}
