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

/// A `/v1/embeddings` request body: `input` a string or an array of strings (token arrays and
/// base64 output are not offered).
enum EmbeddingsBody {
    /// OpenAI's limit on the texts of one request.
    static let maximumInputs = 2048

    static func modelRequest(_ body: JSONObject) throws(SpecError) -> ModelRequest {
        let model = try RequestBody.model(body)
        let texts: [String]
        switch body["input"] {
        case .string(let text)?: texts = [text]
        case .array(let list)? where !list.isEmpty && list.count <= maximumInputs:
            var collected: [String] = []
            for (index, entry) in list.enumerated() {
                guard let text = entry.stringValue else {
                    throw SpecError(field: "input[\(index)]", message: "must be a string (token arrays are not supported)")
                }
                collected.append(text)
            }
            texts = collected
        default:
            throw SpecError(field: "input", message: "must be a string or an array of 1 to \(maximumInputs) strings")
        }
        if let (index, _) = texts.enumerated().first(where: { $0.element.isEmpty }) {
            throw SpecError(field: "input[\(index)]", message: "must not be empty")
        }
        if let format = body["encoding_format"], format != .null, format != .string("float") {
            throw SpecError(field: "encoding_format", message: "only \"float\" is supported")
        }
        if let dimensions = body["dimensions"], dimensions != .null {
            guard let count = dimensions.intValue, (1...4096).contains(count) else {
                throw SpecError(field: "dimensions", message: "must be an integer from 1 to 4096")
            }
        }
        var params = JSONObject()
        for key in ["dimensions", "user"] {
            if let value = body[key], value != .null { params[key] = value }
        }
        return ModelRequest(
            model: model, system: nil, messages: texts.map { ChatMessage(role: .user, content: $0) }, params: params,
            outputSchema: nil, inputs: texts.map { JSONObject([("content", .string($0))]) }, operation: .embeddings(texts))
    }
}

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
