import Foundation
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
        /// OpenAI's image part: `{"url": …, "detail": …}` (the URL may be a `data:` URI).
        var imageURL: JSONValue?
        /// Anthropic's image block: `{"type": "url", "url": …}` or `{"type": "base64", …}`.
        var source: JSONValue?
        /// Anthropic's prompt cache marker: the prompt up to and including this part is cached.
        var cacheControl: JSONValue?

        enum CodingKeys: String, CodingKey {
            case type, text, source
            case imageURL = "image_url"
            case cacheControl = "cache_control"
        }

        init(type: String, text: String? = nil, imageURL: JSONValue? = nil, source: JSONValue? = nil, cacheControl: JSONValue? = nil) {
            self.type = type
            self.text = text
            self.imageURL = imageURL
            self.source = source
            self.cacheControl = cacheControl
        }
    }

    /// A message as OpenAI's chat completions write it: its text as a string, or — with images —
    /// `text` and `image_url` parts in order (an inline image as a `data:` URI of its bytes).
    init(chatCompletions message: ChatMessage) {
        guard !message.isText else {
            self = .string(message.content)
            return
        }
        self = .parts(
            message.parts.map { part in
                switch part {
                case .text(let text): return Part(type: "text", text: text)
                case .image(let image):
                    let url =
                        switch image.source {
                        case .url(let url): url
                        case .inline(let probe, let bytes): "data:\(probe.format.mediaType);base64,\(Data(bytes).base64EncodedString())"
                        }
                    var imageURL = JSONObject([("url", .string(url))])
                    if let detail = image.detail { imageURL["detail"] = .string(detail) }
                    return Part(type: "image_url", imageURL: .object(imageURL))
                }
            })
    }

    /// A message as Anthropic's Messages API writes it: its text as a string, or — with images —
    /// `text` and `image` blocks in order (a URL the API fetches, or base64 bytes with their
    /// media type). OpenAI's `detail` has no Anthropic equivalent and is left out.
    init(messages message: ChatMessage) {
        guard !message.isText else {
            self = .string(message.content)
            return
        }
        self = .parts(message.parts.map(Self.block))
    }

    static func block(_ part: ChatMessage.Part) -> Part {
        switch part {
        case .text(let text): return Part(type: "text", text: text)
        case .image(let image):
            switch image.source {
            case .url(let url): return Part(type: "image", source: ["type": "url", "url": .string(url)])
            case .inline(let probe, let bytes):
                return Part(
                    type: "image",
                    source: [
                        "type": "base64", "media_type": .string(probe.format.mediaType), "data": .string(Data(bytes).base64EncodedString()),
                    ])
            }
        }
    }

    /// These contents as parts (a string is one text part): for joining two turns' contents.
    var asParts: [Part] {
        switch self {
        case .string(let text): [Part(type: "text", text: text)]
        case .parts(let parts): parts
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
