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
    /// reply, the reason the last reply was refused. A spec without a template has no prompt
    /// to build: its items carry their own requests (read by the wire module's `ItemRequest`).
    ///
    /// `files` holds the images the row names by path, read from its upload (see ``ImagePart/read(cell:detail:files:)``).
    public func request(
        for input: JSONObject, history: [Turn] = [], previousError: String? = nil, files: [String: ImagePart.Source]? = nil
    ) throws(SpecError) -> ModelRequest {
        guard let template = spec.template else {
            throw SpecError(field: "template", message: "a spec without a template has no prompt to build: its items are whole requests")
        }
        var messages: [ChatMessage] = []
        for turn in history {
            messages.append(ChatMessage(role: .user, content: try template.render(turn.input.withDefaults(spec.vars))))
            messages.append(ChatMessage(role: .assistant, content: turn.output.plainText))
        }
        let prompt = try template.render(input.withDefaults(spec.vars))
        let images = spec.images.isEmpty ? [] : try images(of: input, files: files)
        messages.append(ChatMessage(role: .user, parts: [.text(prompt)] + images.map { .image($0) }))
        appendCorrection(previousError, to: &messages)
        var request = ModelRequest(
            model: spec.model, system: systemPrompt(schema: spec.outputSchema), messages: messages, params: spec.params,
            outputSchema: spec.outputSchema, inputs: [input.withDefaults(spec.vars)])
        if let tools = spec.tools { answer(with: tools.definitions, choice: tools.choice, in: &request) }
        return request
    }

    /// Makes `request` one answered by calling a tool: one call at a time, its arguments the answer.
    func answer(with tools: [ToolDefinition], choice: ToolChoice, in request: inout ModelRequest) {
        request.tools = tools
        request.toolChoice = choice
        request.parallelToolCalls = false
        request.answersWithTool = true
    }

    /// One request answering several ungrouped rows, each under its stable key (``rowKey(index:)``).
    /// The reply must be `{"results": [{"key": …, "output": …}, …]}` answering every key once;
    /// ``PackedReply`` matches answers to rows by key, never by position, and checks that each
    /// key is answered once.
    ///
    /// Everything that is the same for every pack of the job comes first — the system prompt,
    /// the wrapper schema, the instruction — and the rows (their keys and count) last, so every
    /// call's prefix is the same and the provider's prompt cache serves it. The schema therefore
    /// names no keys and no count: a schema listing a pack's keys, sent first (OpenAI puts a
    /// structured output's schema before the system prompt), made every pack's prefix its own.
    public func packedRequest(for rows: [(key: String, input: JSONObject)], previousError: String? = nil) throws(SpecError)
        -> ModelRequest
    {
        precondition(!rows.isEmpty)
        guard let template = spec.template else {
            throw SpecError(field: "items_per_request", message: "requests given whole cannot be packed")
        }
        var prompt = "\(rows.count) rows:\n"
        for row in rows {
            prompt += "\n### Row \(row.key)\n" + (try template.render(row.input.withDefaults(spec.vars))) + "\n"
        }
        var messages = [ChatMessage(role: .user, content: prompt)]
        appendCorrection(previousError, to: &messages)
        if let tools = spec.tools, let tool = tools.definitions.first, tools.definitions.count == 1 {
            // The one tool takes the whole pack: its arguments are the keyed results, each row's
            // output of the tool's own parameters.
            var packed = tool
            packed.parameters = Self.packedSchema(item: tools.schemas[tool.name]).json
            let system = [spec.system, Self.packingInstruction(tool: tool.name)].compactMap { $0 }.joined(separator: "\n\n")
            var request = ModelRequest(
                model: spec.model, system: system, messages: messages, params: spec.params, outputSchema: nil,
                inputs: rows.map { $0.input.withDefaults(spec.vars) }, rowKeys: rows.map(\.key))
            answer(with: [packed], choice: .tool(tool.name), in: &request)
            return request
        }
        let schema = Self.packedSchema(item: spec.outputSchema)
        let system = [systemPrompt(schema: schema), Self.packingInstruction].compactMap { $0 }.joined(separator: "\n\n")
        return ModelRequest(
            model: spec.model, system: system, messages: messages, params: spec.params, outputSchema: schema,
            inputs: rows.map { $0.input.withDefaults(spec.vars) }, rowKeys: rows.map(\.key))
    }

    /// The row's images, from the spec's `images` columns in order (an empty cell: none).
    /// Earlier turns of a group are sent as text alone.
    func images(of input: JSONObject, files: [String: ImagePart.Source]?) throws(SpecError) -> [ImagePart] {
        var parts: [ImagePart] = []
        for column in spec.images {
            guard let cell = input[column]?.plainText, !cell.allSatisfy(\.isWhitespace) else { continue }
            do { parts.append(try ImagePart.read(cell: cell, detail: spec.imageDetail, files: files)) } catch {
                throw SpecError(field: column, message: error.description)
            }
        }
        return parts
    }

    /// How a packed call is to be answered, the same for every pack.
    static let packingInstruction = """
        The message holds several rows, each under a heading `### Row <key>`. Answer each row independently and each key \
        exactly once, as {"results": [{"key": "<key>", "output": <answer>}, ...]}.
        """

    /// How a packed call answered through its one tool is to be answered.
    static func packingInstruction(tool: String) -> String {
        """
        The message holds several rows, each under a heading `### Row <key>`. Answer each row independently and each key \
        exactly once, in one call to \(tool) whose results hold {"key": "<key>", "output": <that row's arguments>} for every row.
        """
    }

    /// A row's key in a packed prompt: its place in the input, which never changes between
    /// attempts, so a retried row keeps its name.
    public static func rowKey(index: Int) -> String { "r\(index)" }

    /// The wrapper schema of a packed reply: `{"key", "output"}` entries, as many as rows (which
    /// rows, and how many, ``PackedReply`` checks).
    public static func packedSchema(item: OutputSchema?) -> OutputSchema {
        let itemSchema: JSONValue = item?.json ?? ["type": "string"]
        let entry: JSONValue = [
            "type": "object", "required": ["key", "output"], "additionalProperties": false,
            "properties": ["key": ["type": "string"], "output": itemSchema],
        ]
        let wrapper: JSONValue = [
            "type": "object", "required": ["results"], "additionalProperties": false,
            "properties": ["results": ["type": "array", "items": entry]],
        ]
        // The wrapper is built from an already-compiled schema, so it always compiles.
        return try! OutputSchema(wrapper)
    }

    func systemPrompt(schema: OutputSchema?) -> String? {
        guard let schema else { return spec.system }
        let instruction =
            "Reply with only a JSON value, no prose or code fences, that matches this JSON Schema:\n"
            + schema.text
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
