/// What a whole request's item keeps of its reply, for its batch output line: the text alone,
/// as always, or — when the model called tools — `{"content": text or null, "tool_calls":
/// [{"id", "name", "arguments"}]}`, so the line carries the calls as the provider made them.
public enum CallOutput {
    public static func json(text: String, toolCalls: [ToolCall]) -> JSONValue {
        guard !toolCalls.isEmpty else { return .string(text) }
        return [
            "content": text.isEmpty ? .null : .string(text),
            "tool_calls": .array(
                toolCalls.map { ["id": .string($0.id), "name": .string($0.name), "arguments": .string($0.arguments)] }),
        ]
    }

    /// A stored output read back: its text and its tool calls.
    public static func read(_ output: JSONValue?) -> (text: String, toolCalls: [ToolCall]) {
        guard case .object(let object)? = output, case .array(let calls)? = object["tool_calls"] else {
            return (output?.plainText ?? "", [])
        }
        let read = calls.compactMap { call -> ToolCall? in
            guard let id = call["id"]?.stringValue, let name = call["name"]?.stringValue, let arguments = call["arguments"]?.stringValue
            else { return nil }
            return ToolCall(id: id, name: name, arguments: arguments)
        }
        return (object["content"]?.stringValue ?? "", read)
    }
}
