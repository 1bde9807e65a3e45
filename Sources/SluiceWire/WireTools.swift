import SluiceCore

/// Tools as a batch line gives them, in each vendor's shape, read into the neutral form (and
/// refused at their field, in that vendor's words for the path, when they are no function
/// tools Sluice can carry to either provider).
enum WireTools {
    /// OpenAI's function tools: chat's `{"type": "function", "function": {…}}`, or Responses'
    /// flat `{"type": "function", "name", …}`.
    static func openAI(_ value: JSONValue?, field: String, flat: Bool) throws(SpecError) -> [ToolDefinition] {
        let list = try self.list(value, field: field)
        var tools: [ToolDefinition] = []
        for (index, tool) in list.enumerated() {
            let place = "\(field)[\(index)]"
            guard tool["type"]?.stringValue == "function" else {
                throw SpecError(field: "\(place).type", message: "only function tools are supported (Sluice carries them to any provider)")
            }
            let function = flat ? tool : tool["function"] ?? .null
            tools.append(try definition(function, field: flat ? place : "\(place).function", schemaKey: "parameters", names: tools))
        }
        return tools
    }

    /// Anthropic's client tools: `{"name", "description", "input_schema"}` (type `custom` or none).
    static func anthropic(_ value: JSONValue?, field: String) throws(SpecError) -> [ToolDefinition] {
        let list = try self.list(value, field: field)
        var tools: [ToolDefinition] = []
        for (index, tool) in list.enumerated() {
            let place = "\(field).\(index)"
            if let type = tool["type"]?.stringValue, type != "custom" {
                throw SpecError(
                    field: "\(place).type", message: "server tools ('\(type)') are not supported: only client tools with an input_schema")
            }
            tools.append(try definition(tool, field: place, schemaKey: "input_schema", names: tools))
        }
        return tools
    }

    /// A request's `tools`: none, or an array of at most ``JobTools/maxTools``.
    static func list(_ value: JSONValue?, field: String) throws(SpecError) -> [JSONValue] {
        guard let value, value != .null else { return [] }
        guard case .array(let list) = value, list.count <= JobTools.maxTools else {
            throw SpecError(field: field, message: "must be an array of at most \(JobTools.maxTools) tools")
        }
        return list
    }

    static func definition(_ tool: JSONValue, field: String, schemaKey: String, names: [ToolDefinition]) throws(SpecError) -> ToolDefinition
    {
        guard let name = tool["name"]?.stringValue, ToolDefinition.isValidName(name) else {
            throw SpecError(field: "\(field).name", message: "must be 1 to 64 letters, digits, _ or -")
        }
        guard !names.contains(where: { $0.name == name }) else {
            throw SpecError(field: "\(field).name", message: "'\(name)' names two tools")
        }
        let parameters = tool[schemaKey] ?? ["type": "object", "properties": [:]]
        guard case .object = parameters else { throw SpecError(field: "\(field).\(schemaKey)", message: "must be a JSON Schema object") }
        let strict: Bool? =
            if case .bool(let strict)? = tool["strict"] { strict } else { nil }
        return ToolDefinition(name: name, description: tool["description"]?.stringValue, parameters: parameters, strict: strict)
    }

    /// OpenAI's `tool_choice`: `auto`, `none`, `required`, or a function by name (chat's
    /// `{"type": "function", "function": {"name"}}`, Responses' `{"type": "function", "name"}`).
    static func openAIChoice(_ value: JSONValue?, tools: [ToolDefinition], field: String) throws(SpecError) -> ToolChoice? {
        switch value {
        case nil, .null?: return nil
        case .string("auto")?: return .auto
        case .string("none")?: return .never
        case .string("required")?: return .required
        case let choice? where choice["type"]?.stringValue == "function":
            guard let name = (choice["function"]?["name"] ?? choice["name"])?.stringValue, tools.contains(where: { $0.name == name }) else {
                throw SpecError(field: field, message: "must name one of the request's tools")
            }
            return .tool(name)
        default: throw SpecError(field: field, message: "must be auto, none, required or a function tool by name")
        }
    }

    /// Anthropic's `tool_choice`: `{"type": "auto" | "any" | "tool" | "none", "name",
    /// "disable_parallel_tool_use"}`, and whether parallel calls are off.
    static func anthropicChoice(_ value: JSONValue?, tools: [ToolDefinition], field: String) throws(SpecError) -> (ToolChoice?, Bool?) {
        guard let value, value != .null else { return (nil, nil) }
        let parallel: Bool? = if case .bool(true)? = value["disable_parallel_tool_use"] { false } else { nil }
        switch value["type"]?.stringValue {
        case "auto"?: return (.auto, parallel)
        case "any"?: return (.required, parallel)
        case "none"?: return (.never, nil)
        case "tool"?:
            guard let name = value["name"]?.stringValue, tools.contains(where: { $0.name == name }) else {
                throw SpecError(field: "\(field).name", message: "must name one of the request's tools")
            }
            return (.tool(name), parallel)
        default: throw SpecError(field: "\(field).type", message: "must be auto, any, tool or none")
        }
    }
}
