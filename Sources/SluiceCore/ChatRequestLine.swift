/// One line of an OpenAI Batch API input file: `{"custom_id", "method", "url", "body"}`, where
/// `body` is a whole chat-completions request.
///
/// Pure: checks a parsed line the way OpenAI's validation does (so a bad file fails before any
/// model call, with the line and an OpenAI error code), and turns a valid line's body into the
/// provider-neutral ``ModelRequest``.
public enum ChatRequestLine {
    /// The only endpoint Sluice runs batches against.
    public static let endpoint = "/v1/chat/completions"

    /// Why a line was refused: an OpenAI batch error code, the offending parameter and words.
    public struct Problem: Error, Sendable, Equatable {
        public var code: String
        public var param: String?
        public var message: String
    }

    /// The line's `custom_id` when the line is a valid request for ``endpoint``.
    public static func check(_ line: JSONObject) -> Result<String, Problem> {
        guard let customID = line["custom_id"]?.stringValue, !customID.isEmpty else {
            return .failure(
                Problem(code: "missing_required_parameter", param: "custom_id", message: "custom_id must be a non-empty string"))
        }
        guard line["method"]?.stringValue == "POST" else {
            return .failure(Problem(code: "invalid_method", param: "method", message: "method must be POST"))
        }
        guard let url = line["url"]?.stringValue, url == endpoint else {
            return .failure(
                Problem(code: "invalid_url", param: "url", message: "url must be \(endpoint), the batch's endpoint"))
        }
        guard case .object(let body)? = line["body"] else {
            return .failure(Problem(code: "missing_required_parameter", param: "body", message: "body must be an object"))
        }
        do {
            _ = try modelRequest(body: body)
        } catch {
            return .failure(Problem(code: "invalid_request", param: "body.\(error.field)", message: error.message))
        }
        return .success(customID)
    }

    /// The model call a stored line asks for.
    public static func modelRequest(from line: JSONObject) throws(SpecError) -> ModelRequest {
        guard case .object(let body)? = line["body"] else { throw SpecError(field: "body", message: "must be an object") }
        return try modelRequest(body: body)
    }

    static func modelRequest(body: JSONObject) throws(SpecError) -> ModelRequest {
        guard let model = body["model"]?.stringValue, !model.isEmpty else {
            throw SpecError(field: "model", message: "a model name is required")
        }
        guard case .array(let list)? = body["messages"], !list.isEmpty else {
            throw SpecError(field: "messages", message: "must be a non-empty array of messages")
        }
        if let stream = body["stream"], stream == .bool(true) {
            throw SpecError(field: "stream", message: "streaming is not available in a batch")
        }
        if let count = body["n"]?.intValue, count != 1 {
            throw SpecError(field: "n", message: "only one choice per request is supported")
        }
        var system: [String] = []
        var messages: [ChatMessage] = []
        for (index, message) in list.enumerated() {
            guard let role = message["role"]?.stringValue else {
                throw SpecError(field: "messages[\(index)].role", message: "a role is required")
            }
            let content = try text(of: message["content"], field: "messages[\(index)].content")
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
        var params = body
        for key in ["model", "messages", "stream", "n"] { params[key] = nil }
        // The built-in provider answers from the item's fields: give it the last user turn.
        let lastUser = messages.last { $0.role == .user }?.content ?? ""
        return ModelRequest(
            model: model, system: system.isEmpty ? nil : system.joined(separator: "\n\n"), messages: messages, params: params,
            outputSchema: nil, inputs: [JSONObject([("content", .string(lastUser))])])
    }

    /// A message's text: a string, or an array of `{"type": "text", "text": …}` parts.
    static func text(of content: JSONValue?, field: String) throws(SpecError) -> String {
        switch content {
        case .string(let text)?: return text
        case .array(let parts)?:
            var pieces: [String] = []
            for part in parts {
                guard part["type"]?.stringValue == "text", let text = part["text"]?.stringValue else {
                    throw SpecError(field: field, message: "only text content parts are supported")
                }
                pieces.append(text)
            }
            return pieces.joined(separator: "\n")
        default: throw SpecError(field: field, message: "must be a string or an array of text parts")
        }
    }
}
