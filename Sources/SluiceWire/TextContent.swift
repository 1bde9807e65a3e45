import SluiceCore

/// A message's content as both vendors write it: a string, or an array of typed parts.
///
/// Only text is offered in a batch; which part types count as text is the endpoint's to say
/// (``text(partTypes:)``), since Responses calls them `input_text` and `output_text`.
enum TextContent: Codable, Sendable, Equatable {
    case string(String)
    case parts([Part])

    struct Part: Codable, Sendable, Equatable {
        var type: String?
        var text: String?
        /// Anthropic's prompt cache marker: the prompt up to and including this part is cached.
        var cacheControl: JSONValue?

        enum CodingKeys: String, CodingKey {
            case type, text
            case cacheControl = "cache_control"
        }
    }

    init(from decoder: any Decoder) throws {
        let single = try decoder.singleValueContainer()
        if let text = try? single.decode(String.self) {
            self = .string(text)
        } else if let parts = try? single.decode([Part].self) {
            self = .parts(parts)
        } else {
            throw WireError(at: decoder.codingPath, "must be a string or an array of text parts")
        }
    }

    func encode(to encoder: any Encoder) throws {
        var single = encoder.singleValueContainer()
        switch self {
        case .string(let text): try single.encode(text)
        case .parts(let parts): try single.encode(parts)
        }
    }

    /// The text, parts joined by a newline; refused at `path` when a part is not text.
    func text(partTypes: Set<String>, at path: [any CodingKey]) throws(WireError) -> String {
        switch self {
        case .string(let text): return text
        case .parts(let parts):
            var pieces: [String] = []
            for part in parts {
                guard let type = part.type, partTypes.contains(type), let text = part.text else {
                    throw WireError(at: path, "only text content parts are supported")
                }
                pieces.append(text)
            }
            return pieces.joined(separator: "\n")
        }
    }
}
