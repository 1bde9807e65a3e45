import SluiceCore

/// What the vendors' chat requests share once read: the provider-neutral call they ask for.
enum ChatRequest {
    /// A chat call; the built-in provider answers from the last user turn, given as its input.
    static func modelRequest(model: String, system: [String], messages: [ChatMessage], params: JSONObject) -> ModelRequest {
        let lastUser = messages.last { $0.role == .user }?.content ?? ""
        return ModelRequest(
            model: model, system: system.isEmpty ? nil : system.joined(separator: "\n\n"), messages: messages, params: params,
            outputSchema: nil, inputs: [JSONObject([("content", .string(lastUser))])])
    }

    /// The model a request names: refused when absent or empty.
    static func model(_ model: String?, in container: [any CodingKey]) throws(WireError) -> String {
        guard let model, !model.isEmpty else {
            throw WireError(at: container + [JSONKey(stringValue: "model")], "a model name is required")
        }
        return model
    }

    /// Refuses `stream: true`: a batch has no one to stream to.
    static func refuseStreaming(_ stream: Bool?, in container: [any CodingKey]) throws(WireError) {
        if stream == true { throw WireError(at: container + [JSONKey(stringValue: "stream")], "streaming is not available in a batch") }
    }

    /// The members of `object` not named by `Key`: parameters to pass on or refuse.
    static func others<Key: CodingKey & CaseIterable>(in decoder: any Decoder, besides key: Key.Type) throws -> JSONObject {
        let known = Set(Key.allCases.map(\.stringValue))
        let all = try decoder.container(keyedBy: JSONKey.self)
        var others = JSONObject()
        for name in all.allKeys where !known.contains(name.stringValue) {
            others[name.stringValue] = try all.decode(JSONValue.self, forKey: name)
        }
        return others
    }
}
