/// Builds the model call for one item, or for several packed into one call.
///
/// Pure: everything it needs — spec, inputs, the group's earlier turns, the last attempt's
/// error — is passed in, so the exact prompt a model sees is testable without a provider.
public struct PromptBuilder: Sendable {
    public let spec: JobSpec

    public init(spec: JobSpec) {
        self.spec = spec
    }

    /// An earlier item of the same group: its prompt and the answer it got.
    public struct Turn: Sendable, Equatable {
        public var input: JSONObject
        public var output: JSONValue

        public init(input: JSONObject, output: JSONValue) {
            self.input = input
            self.output = output
        }
    }

    /// The request for one item, carrying its group's history and, on a retry after an invalid
    /// reply, the reason the last reply was refused.
    public func request(for input: JSONObject, history: [Turn] = [], previousError: String? = nil) throws(SpecError) -> ModelRequest {
        guard let template = spec.template else { return try ChatRequestLine.modelRequest(from: input) }
        var messages: [ChatMessage] = []
        for turn in history {
            messages.append(ChatMessage(role: .user, content: try template.render(turn.input)))
            messages.append(ChatMessage(role: .assistant, content: turn.output.plainText))
        }
        messages.append(ChatMessage(role: .user, content: try template.render(input)))
        appendCorrection(previousError, to: &messages)
        return ModelRequest(
            model: spec.model, system: systemPrompt(schema: spec.outputSchema), messages: messages, params: spec.params,
            outputSchema: spec.outputSchema, inputs: [input])
    }

    /// One request answering several ungrouped items; the reply must be `{"results": [...]}`
    /// with exactly one entry per item, in order.
    public func packedRequest(for inputs: [JSONObject], previousError: String? = nil) throws(SpecError) -> ModelRequest {
        precondition(!inputs.isEmpty)
        guard let template = spec.template else {
            throw SpecError(field: "items_per_request", message: "requests given whole cannot be packed")
        }
        var prompt = "Answer each of the following \(inputs.count) items independently, in order.\n"
        for (number, input) in inputs.enumerated() {
            prompt += "\n### Item \(number + 1)\n" + (try template.render(input)) + "\n"
        }
        var messages = [ChatMessage(role: .user, content: prompt)]
        appendCorrection(previousError, to: &messages)
        let schema = Self.packedSchema(count: inputs.count, item: spec.outputSchema)
        return ModelRequest(
            model: spec.model, system: systemPrompt(schema: schema), messages: messages, params: spec.params,
            outputSchema: schema, inputs: inputs, isPacked: true)
    }

    /// The wrapper schema of a packed reply.
    public static func packedSchema(count: Int, item: OutputSchema?) -> OutputSchema {
        let itemSchema: JSONValue = item?.json ?? ["type": "string"]
        let wrapper: JSONValue = [
            "type": "object", "required": ["results"], "additionalProperties": false,
            "properties": ["results": ["type": "array", "minItems": .int(count), "maxItems": .int(count), "items": itemSchema]],
        ]
        // The wrapper is built from an already-compiled schema, so it always compiles.
        return try! OutputSchema(wrapper)
    }

    func systemPrompt(schema: OutputSchema?) -> String? {
        guard let schema else { return spec.system }
        let instruction =
            "Reply with only a JSON value, no prose or code fences, that matches this JSON Schema:\n"
            + JSONWriter.string(schema.json)
        guard let system = spec.system, !system.isEmpty else { return instruction }
        return system + "\n\n" + instruction
    }

    func appendCorrection(_ previousError: String?, to messages: inout [ChatMessage]) {
        guard let previousError else { return }
        messages.append(
            ChatMessage(
                role: .user,
                content: "Your previous reply was rejected: \(previousError)\nReply again with only a valid answer."))
    }
}
