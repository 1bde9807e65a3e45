/// A function a model may call instead of answering in text: its name, what it is for, and the
/// JSON Schema of its arguments. Every vendor has one (OpenAI's `function` tools, Anthropic's
/// `input_schema`); this is the neutral form each provider writes in its own shape.
public struct ToolDefinition: Sendable, Equatable {
    public var name: String
    public var description: String?
    /// The arguments' JSON Schema, as given.
    public var parameters: JSONValue
    /// OpenAI's `strict` (the provider enforces the schema); nil leaves it unsaid.
    public var strict: Bool?

    public init(name: String, description: String? = nil, parameters: JSONValue, strict: Bool? = nil) {
        self.name = name
        self.description = description
        self.parameters = parameters
        self.strict = strict
    }

    /// A name every vendor takes: 1 to 64 letters, digits, `_` and `-`.
    public static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy {
                (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || $0 == 0x5F || $0 == 0x2D
            }
    }
}

/// Whether the model may, must, or must not call a tool, or must call one by name.
public enum ToolChoice: Sendable, Equatable {
    case auto
    /// No call may be made (every vendor's `none`; not named so, which Optional's `.none` would shadow).
    case never
    /// Some tool (OpenAI's `required`, Anthropic's `any`).
    case required
    case tool(String)
}

/// A call the model made: which tool, and its arguments as JSON text (OpenAI writes them as a
/// string; Anthropic's `input` object is written out as one).
public struct ToolCall: Sendable, Equatable {
    public var id: String
    public var name: String
    public var arguments: String

    public init(id: String, name: String, arguments: String) {
        self.id = id
        self.name = name
        self.arguments = arguments
    }
}
