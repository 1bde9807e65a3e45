public import SluiceCore

/// Why a wire shape was refused: the path from the top of the document to the field at fault,
/// and what is wrong with it.
///
/// The path is kept as steps so each vendor's spelling can be given back: OpenAI names a
/// field `messages[0].content`, Anthropic `messages.0.content`, and the SDKs' users search
/// their files by what the error says.
public struct WireError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Step: Sendable, Equatable {
        case key(String)
        case index(Int)
    }

    public var path: [Step]
    public var message: String

    public init(path: [Step], message: String) {
        self.path = path
        self.message = message
    }

    /// A refusal of the field at `codingPath`.
    public init(at codingPath: [any CodingKey], _ message: String) {
        self.init(path: codingPath.map { $0.intValue.map(Step.index) ?? .key($0.stringValue) }, message: message)
    }

    /// `messages[0].content`: OpenAI's spelling.
    public var bracketedField: String {
        path.reduce(into: "") { field, step in
            switch step {
            case .key(let key): field += field.isEmpty ? key : "." + key
            case .index(let index): field += "[\(index)]"
            }
        }
    }

    /// `messages.0.content`: Anthropic's spelling.
    public var dottedField: String {
        path.map {
            switch $0 {
            case .key(let key): key
            case .index(let index): String(index)
            }
        }.joined(separator: ".")
    }

    /// The refusal of a field inside `base` (its path is relative to it), as a spec error
    /// spelled `bracketed` (`messages[0].content[1]`) or dotted (`messages.0.content.1`).
    public func specError(within base: String, bracketed: Bool) -> SpecError {
        let inner = bracketed ? bracketedField : dottedField
        let joined = inner.isEmpty ? base : bracketed && inner.hasPrefix("[") ? base + inner : base + "." + inner
        return SpecError(field: joined, message: message)
    }

    /// The refusal as a spec error, the field spelled `bracketed` or dotted.
    public func specError(bracketed: Bool) -> SpecError {
        SpecError(field: bracketed ? bracketedField : dottedField, message: message)
    }

    public var description: String { "\(dottedField): \(message)" }
}
