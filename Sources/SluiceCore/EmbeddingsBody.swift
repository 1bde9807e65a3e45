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
