/// A document a message carries for the model to read: Anthropic's `document` block (a PDF as
/// base64 or by URL, or plain text), which OpenAI's chat API takes as a `file` part (a PDF) or
/// as text.
public struct DocumentPart: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        /// A PDF's bytes, base64 as the vendors write them.
        case pdf(base64: String)
        case url(String)
        case text(String)
    }

    public var source: Source
    public var title: String?

    public init(source: Source, title: String? = nil) {
        self.source = source
        self.title = title
    }
}
