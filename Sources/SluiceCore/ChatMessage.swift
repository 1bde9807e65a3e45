/// One message of a chat with a model: its text, and any images after it; an assistant's
/// tool calls, or a tool's result.
public struct ChatMessage: Sendable, Equatable {
    public enum Role: String, Sendable {
        case system
        case user
        case assistant
        /// The result of one tool call, given back to the model (Anthropic's `tool_result` block,
        /// sent in a user turn).
        case tool
    }

    /// A piece of a message, in the order the model reads them.
    public enum Part: Sendable, Equatable {
        case text(String)
        case image(ImagePart)
        /// A call an assistant turn made.
        case toolCall(ToolCall)
        /// What a tool call gave back: the call's id, its text, and whether it failed.
        case toolResult(callID: String, text: String, isError: Bool)
        /// A document the model reads: a PDF (base64, or a URL) or plain text.
        case document(DocumentPart)
    }

    public var role: Role
    public var parts: [Part]

    public init(role: Role, content: String) {
        self.role = role
        parts = [.text(content)]
    }

    public init(role: Role, parts: [Part]) {
        self.role = role
        self.parts = parts
    }

    /// The message's text: its text parts, a newline between two. (Read for every call: a
    /// message of one text part, nearly every one, is returned without a copy.)
    public var content: String {
        if parts.count == 1, case .text(let text) = parts[0] { return text }
        return parts.compactMap { part in
            if case .text(let text) = part { return text }
            return nil
        }.joined(separator: "\n")
    }

    /// Its images, in order.
    public var images: [ImagePart] {
        guard !isText else { return [] }
        return parts.compactMap { part in
            if case .image(let image) = part { return image }
            return nil
        }
    }

    /// Whether it is text alone (each vendor's plainest shape: content as a string).
    public var isText: Bool {
        !parts.contains { part in
            if case .text = part { return false }
            return true
        }
    }

    /// The tool calls it makes, in order.
    public var toolCalls: [ToolCall] {
        guard !isText else { return [] }
        return parts.compactMap { part in
            if case .toolCall(let call) = part { return call }
            return nil
        }
    }
}
