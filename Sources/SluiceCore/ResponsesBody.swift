/// A `/v1/responses` request body, run as a chat call: `instructions` is the system prompt,
/// `input` a string or a list of messages, `max_output_tokens` the reply's limit.
enum ResponsesBody {
    /// Fields that only change what OpenAI keeps or reports: accepted and not sent on.
    static let ignored: Set<String> = ["model", "input", "instructions", "store", "metadata", "user", "max_output_tokens", "stream"]
    /// Sampling fields passed to the provider as they are.
    static let passed: Set<String> = ["temperature", "top_p"]

    static func modelRequest(_ body: JSONObject) throws(SpecError) -> ModelRequest {
        let model = try RequestBody.model(body)
        try RequestBody.refuseStreaming(body)
        if let unsupported = body.keys.first(where: { !ignored.contains($0) && !passed.contains($0) }) {
            throw SpecError(
                field: unsupported,
                message: "is not supported in a Sluice batch (model, input, instructions, max_output_tokens, temperature, top_p)")
        }
        var system: [String] = []
        if let instructions = body["instructions"], instructions != .null {
            guard let text = instructions.stringValue else { throw SpecError(field: "instructions", message: "must be a string") }
            system.append(text)
        }
        var messages: [ChatMessage] = []
        switch body["input"] {
        case .string(let text)?: messages.append(ChatMessage(role: .user, content: text))
        case .array(let list)? where !list.isEmpty:
            for (index, entry) in list.enumerated() {
                if let type = entry["type"]?.stringValue, type != "message" {
                    throw SpecError(field: "input[\(index)].type", message: "only message items are supported")
                }
                let role = entry["role"]?.stringValue ?? ""
                let content = try RequestBody.text(
                    of: entry["content"], field: "input[\(index)].content", partTypes: ["input_text", "output_text", "text"])
                switch role {
                case "system", "developer": system.append(content)
                case "user": messages.append(ChatMessage(role: .user, content: content))
                case "assistant": messages.append(ChatMessage(role: .assistant, content: content))
                default:
                    throw SpecError(field: "input[\(index)].role", message: "must be user, assistant, system or developer")
                }
            }
        default: throw SpecError(field: "input", message: "must be a string or a non-empty array of messages")
        }
        guard !messages.isEmpty else { throw SpecError(field: "input", message: "at least one user message is required") }
        var params = JSONObject()
        for key in passed.sorted() {
            if let value = body[key], value != .null { params[key] = value }
        }
        if let limit = body["max_output_tokens"], limit != .null {
            guard let tokens = limit.intValue, tokens >= 1 else {
                throw SpecError(field: "max_output_tokens", message: "must be a positive integer")
            }
            params["max_tokens"] = .int(tokens)
        }
        return RequestBody.chat(model: model, system: system, messages: messages, params: params)
    }
}
