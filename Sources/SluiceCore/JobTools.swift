/// A native job's tools — the standard way to extract structured data: the model answers each
/// item by calling one of them, and the item's output is that call's arguments, checked against
/// the tool's parameter schema (repaired and retried like an output schema's answer). With one
/// tool the output is its arguments; with several, `{"tool": name, "arguments": {…}}`.
public struct JobTools: Sendable, Equatable {
    public var definitions: [ToolDefinition]
    /// `auto` (the model may answer in text: that reply is refused and asked again), `required`,
    /// or one tool by name; `none` would leave nothing to answer with.
    public var choice: ToolChoice
    /// Each tool's parameters compiled, by name.
    public let schemas: [String: OutputSchema]

    public static let maxTools = 128

    /// Reads a spec's `tools` — each `{"name", "description", "parameters"}`, or OpenAI's
    /// `{"type": "function", "function": {…}}` — and `tool_choice`; nil when there are none.
    public static func parse(_ tools: JSONValue?, choice: JSONValue?) throws(SpecError) -> JobTools? {
        guard let tools, tools != .null else {
            if let choice, choice != .null { throw SpecError(field: "tool_choice", message: "there are no tools to choose from") }
            return nil
        }
        guard case .array(let list) = tools, (1...maxTools).contains(list.count) else {
            throw SpecError(field: "tools", message: "must be a list of 1 to \(maxTools) tools")
        }
        var definitions: [ToolDefinition] = []
        var schemas: [String: OutputSchema] = [:]
        for (index, given) in list.enumerated() {
            let field = "tools[\(index)]"
            let tool = given["type"]?.stringValue == "function" ? given["function"] ?? .null : given
            guard case .object(let object) = tool else {
                throw SpecError(field: field, message: "must be an object with a name and parameters")
            }
            for key in object.keys where !["name", "description", "parameters", "strict"].contains(key) {
                throw SpecError(field: "\(field).\(key)", message: "is not a tool's field (name, description, parameters)")
            }
            guard let name = object["name"]?.stringValue, ToolDefinition.isValidName(name) else {
                throw SpecError(field: "\(field).name", message: "must be 1 to 64 letters, digits, _ or -")
            }
            guard schemas[name] == nil else { throw SpecError(field: "\(field).name", message: "'\(name)' names two tools") }
            let parameters = object["parameters"] ?? ["type": "object", "properties": [:]]
            guard parameters["type"]?.stringValue == "object" else {
                throw SpecError(
                    field: "\(field).parameters", message: "must be a JSON Schema of type object (a call's arguments are an object)")
            }
            schemas[name] = try OutputSchema(parameters, field: "\(field).parameters")
            let description: String?
            switch object["description"] {
            case nil, .null?: description = nil
            case .string(let text)?: description = text
            default: throw SpecError(field: "\(field).description", message: "must be a string")
            }
            definitions.append(
                ToolDefinition(
                    name: name, description: description, parameters: parameters,
                    strict: {
                        if case .bool(let strict)? = object["strict"] { return strict }
                        return nil
                    }()))
        }
        let chosen: ToolChoice
        switch choice {
        case nil, .null?: chosen = definitions.count == 1 ? .tool(definitions[0].name) : .required
        case .string("auto")?: chosen = .auto
        case .string("required")?, .string("any")?: chosen = .required
        case .string("none")?:
            throw SpecError(
                field: "tool_choice", message: "'none' leaves the model nothing to answer with: auto, required or a tool's name")
        case .string(let name)? where schemas[name] != nil: chosen = .tool(name)
        case .object(let object)? where (object["function"]?["name"] ?? object["name"])?.stringValue.map { schemas[$0] != nil } == true:
            chosen = .tool((object["function"]?["name"] ?? object["name"])!.stringValue!)
        default:
            throw SpecError(
                field: "tool_choice",
                message: "must be auto, required or one of the tools' names (\(definitions.map(\.name).joined(separator: ", ")))")
        }
        return JobTools(definitions: definitions, choice: chosen, schemas: schemas)
    }

    public var json: (tools: JSONValue, choice: JSONValue) {
        let tools = JSONValue.array(
            definitions.map { tool in
                var object = JSONObject([("name", .string(tool.name))])
                if let description = tool.description { object["description"] = .string(description) }
                object["parameters"] = tool.parameters
                if let strict = tool.strict { object["strict"] = .bool(strict) }
                return .object(object)
            })
        let choice: JSONValue =
            switch self.choice {
            case .auto: "auto"
            case .never: "none"
            case .required: "required"
            case .tool(let name): .string(name)
            }
        return (tools, choice)
    }

    /// The reply's answer: the arguments of its one call to a known tool, parsed and checked
    /// against that tool's schema (through `decode`, which packed calls swap for their own
    /// reading). Refused, with words for the model, when it called none, several, or an unknown one.
    public func answer<Answer>(
        _ reply: ModelReply, decode: (_ arguments: String, _ schema: OutputSchema) -> Result<Answer, ReplyDecoder.Rejection>
    ) -> Result<(tool: String, answer: Answer), ReplyDecoder.Rejection> {
        let names = definitions.map(\.name).joined(separator: ", ")
        guard let call = reply.toolCalls.first else {
            return .failure(ReplyDecoder.Rejection(message: "the reply called no tool; answer by calling one (\(names))"))
        }
        guard reply.toolCalls.count == 1 else {
            return .failure(ReplyDecoder.Rejection(message: "the reply called \(reply.toolCalls.count) tools; call exactly one"))
        }
        guard let schema = schemas[call.name] else {
            return .failure(ReplyDecoder.Rejection(message: "the reply called '\(call.name)', which is not one of the tools (\(names))"))
        }
        return decode(call.arguments, schema).map { (call.name, $0) }
    }

    /// An item's output from the tool it called: the arguments alone when there is one tool.
    public func output(tool: String, arguments: JSONValue) -> JSONValue {
        definitions.count == 1 ? arguments : ["tool": .string(tool), "arguments": arguments]
    }

    public static func == (lhs: JobTools, rhs: JobTools) -> Bool { lhs.definitions == rhs.definitions && lhs.choice == rhs.choice }
}
