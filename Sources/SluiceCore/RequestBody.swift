/// What the request bodies share.
enum RequestBody {
    static func model(_ body: JSONObject) throws(SpecError) -> String {
        guard let model = body["model"]?.stringValue, !model.isEmpty else {
            throw SpecError(field: "model", message: "a model name is required")
        }
        return model
    }

    static func refuseStreaming(_ body: JSONObject) throws(SpecError) {
        if let stream = body["stream"], stream == .bool(true) {
            throw SpecError(field: "stream", message: "streaming is not available in a batch")
        }
    }

    /// A chat call; the built-in provider answers from the last user turn, given as its input.
    static func chat(model: String, system: [String], messages: [ChatMessage], params: JSONObject) -> ModelRequest {
        let lastUser = messages.last { $0.role == .user }?.content ?? ""
        return ModelRequest(
            model: model, system: system.isEmpty ? nil : system.joined(separator: "\n\n"), messages: messages, params: params,
            outputSchema: nil, inputs: [JSONObject([("content", .string(lastUser))])])
    }

    /// A message's text: a string, or an array of parts of `partTypes` each with a `text`.
    static func text(of content: JSONValue?, field: String, partTypes: Set<String>) throws(SpecError) -> String {
        switch content {
        case .string(let text)?: return text
        case .array(let parts)?:
            var pieces: [String] = []
            for part in parts {
                guard let type = part["type"]?.stringValue, partTypes.contains(type), let text = part["text"]?.stringValue else {
                    throw SpecError(field: field, message: "only text content parts are supported")
                }
                pieces.append(text)
            }
            return pieces.joined(separator: "\n")
        default: throw SpecError(field: field, message: "must be a string or an array of text parts")
        }
    }
}
