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
        /// Responses' `input_image` detail (chat completions keep it inside `image_url`).
        var detail: String?
        /// Anthropic's prompt cache marker: the prompt up to and including this part is cached.
        var cacheControl: JSONValue?
        /// Anthropic's `tool_use` block: the call's id, the tool's name, its arguments (an object).
        var id: String?
        var name: String?
        var input: JSONValue?
        /// Anthropic's `tool_result` block: the call it answers, its content (a string or text
        /// blocks), and whether the tool failed.
        var toolUseID: String?
        var content: JSONValue?
        var isError: Bool?
        /// Anthropic's `document` block's title.
        var title: String?
        /// OpenAI's `file` part: `{"filename", "file_data"}` (a `data:` URI) or `{"file_id"}`.
        var file: JSONValue?

        /// In the order each vendor writes them.
        enum CodingKeys: String, CodingKey {
            case type, text
            case imageURL = "image_url"
            case source, detail, id, name, input
            case toolUseID = "tool_use_id"
            case content
            case isError = "is_error"
            case title, file
            case cacheControl = "cache_control"
        }

        init(
            type: String, text: String? = nil, imageURL: JSONValue? = nil, source: JSONValue? = nil, cacheControl: JSONValue? = nil,
            file: JSONValue? = nil
        ) {
            self.type = type
            self.text = text
            self.imageURL = imageURL
            self.source = source
            self.cacheControl = cacheControl
            self.file = file
        }
    }

    /// A message as OpenAI's chat completions write it: its text as a string, or — with images
    /// or documents — `text`, `image_url` and `file` parts in order (an inline image as a `data:`
    /// URI of its bytes; a PDF as a `file` part's `data:` URI; a text document as text). Tool
    /// calls and results are the message's own fields, not parts (``ChatCompletionsRequest``).
    init(chatCompletions message: ChatMessage) {
        guard !message.isText else {
            self = .string(message.content)
            return
        }
        self = .parts(
            message.parts.compactMap { part in
                switch part {
                case .text(let text): return Part(type: "text", text: text)
                case .toolCall, .toolResult: return nil
                case .document(let document):
                    switch document.source {
                    case .pdf(let base64):
                        return Part(
                            type: "file",
                            file: [
                                "filename": .string(document.title ?? "document.pdf"),
                                "file_data": .string("data:application/pdf;base64,\(base64)"),
                            ])
                    // Refused before sending (``ChatCompletionsRequest/refusal(for:)``): no chat form.
                    case .url(let url): return Part(type: "text", text: url)
                    case .text(let text): return Part(type: "text", text: document.title.map { "\($0)\n\n\(text)" } ?? text)
                    }
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
        case .toolCall(let call):
            var block = Part(type: "tool_use")
            (block.id, block.name) = (call.id, call.name)
            // Checked to be an object before sending (``MessagesRequest/refusal(for:)``).
            block.input = (try? JSONParser.parse(call.arguments)) ?? [:]
            return block
        case .toolResult(let id, let text, let isError):
            var block = Part(type: "tool_result")
            (block.toolUseID, block.content, block.isError) = (id, .string(text), isError ? true : nil)
            return block
        case .document(let document):
            var block = Part(type: "document")
            block.title = document.title
            block.source =
                switch document.source {
                case .pdf(let base64): ["type": "base64", "media_type": "application/pdf", "data": .string(base64)]
                case .url(let url): ["type": "url", "url": .string(url)]
                case .text(let text): ["type": "text", "media_type": "text/plain", "data": .string(text)]
                }
            return block
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

    /// Which vendor's part types a message may hold beyond text and images.
    enum Vendor {
        /// OpenAI's `file` parts (a PDF as a `data:` URI).
        case openAI
        /// Anthropic's `document`, `tool_use` and `tool_result` blocks.
        case anthropic
    }

    /// The parts of a message: text (`textTypes`) and images — OpenAI's `image_url`
    /// (`{"url", "detail"}`), Responses' `input_image` (`image_url` a string, `detail` beside it)
    /// and Anthropic's `image` (a `url` or `base64` source) — read as a row's image cell is
    /// (a URL passed on, a data URI's bytes known by their content); OpenAI's `file` parts and
    /// Anthropic's `document`, `tool_use` and `tool_result` blocks as the `vendor` writes them.
    /// Refused at `path` otherwise.
    func parts(textTypes: Set<String>, at path: [any CodingKey], vendor: Vendor = .openAI) throws(WireError) -> [ChatMessage.Part] {
        guard case .parts(let parts) = self else { return [.text(try text(partTypes: textTypes, at: path))] }
        var read: [ChatMessage.Part] = []
        for (index, part) in parts.enumerated() {
            let place = path + [JSONKey(intValue: index)]
            if let type = part.type, textTypes.contains(type), let text = part.text {
                read.append(.text(text))
                continue
            }
            if let other = try Self.other(part, at: place, vendor: vendor) {
                read.append(other)
                continue
            }
            let cell: String?
            var detail: String?
            switch part.type {
            case "image_url"?, "input_image"?:
                cell = part.imageURL?.stringValue ?? part.imageURL?["url"]?.stringValue
                detail = part.imageURL?["detail"]?.stringValue ?? part.detail
            case "image"?:
                switch part.source?["type"]?.stringValue {
                case "url"?: cell = part.source?["url"]?.stringValue
                case "base64"?:
                    cell = part.source?["data"]?.stringValue.map { "data:\(part.source?["media_type"]?.stringValue ?? "");base64,\($0)" }
                default: cell = nil
                }
            default:
                throw WireError(
                    at: place,
                    vendor == .openAI
                        ? "only text, image and file content parts are supported"
                        : "only text, image, document, tool_use and tool_result blocks are supported")
            }
            guard let cell else { throw WireError(at: place, "an image part needs its URL or base64 data") }
            do { read.append(.image(try ImagePart.read(cell: cell, detail: detail))) } catch {
                throw WireError(at: place, error.description)
            }
        }
        return read
    }

    /// A part that is neither text nor an image: a document, a tool's call or its result; nil
    /// for any other part.
    static func other(_ part: Part, at place: [any CodingKey], vendor: Vendor) throws(WireError) -> ChatMessage.Part? {
        switch (part.type, vendor) {
        case ("file"?, .openAI):
            guard let data = part.file?["file_data"]?.stringValue else {
                throw WireError(
                    at: place + [JSONKey(stringValue: "file")], "a file part needs its file_data (a file_id is not read in a batch)")
            }
            guard data.lowercased().hasPrefix("data:application/pdf;base64,"), let comma = data.firstIndex(of: ",") else {
                throw WireError(
                    at: place + [JSONKey(stringValue: "file")], "file_data must be a PDF as a data: URI (data:application/pdf;base64,…)")
            }
            return .document(
                DocumentPart(source: .pdf(base64: String(data[data.index(after: comma)...])), title: part.file?["filename"]?.stringValue))
        case ("document"?, .anthropic):
            let source: DocumentPart.Source
            switch (part.source?["type"]?.stringValue, part.source?["media_type"]?.stringValue) {
            case ("base64"?, "application/pdf"?):
                guard let data = part.source?["data"]?.stringValue else {
                    throw WireError(at: place, "a document's base64 source needs its data")
                }
                source = .pdf(base64: data)
            case ("url"?, _):
                guard let url = part.source?["url"]?.stringValue else {
                    throw WireError(at: place, "a document's url source needs its url")
                }
                source = .url(url)
            case ("text"?, _):
                guard let data = part.source?["data"]?.stringValue else {
                    throw WireError(at: place, "a document's text source needs its data")
                }
                source = .text(data)
            default: throw WireError(at: place, "a document's source must be a base64 PDF, a url or text")
            }
            return .document(DocumentPart(source: source, title: part.title))
        case ("tool_use"?, .anthropic):
            guard let id = part.id, let name = part.name, case .object? = part.input else {
                throw WireError(at: place, "a tool_use block needs its id, name and input (an object)")
            }
            return .toolCall(ToolCall(id: id, name: name, arguments: JSONWriter.string(part.input!)))
        case ("tool_result"?, .anthropic):
            guard let id = part.toolUseID else { throw WireError(at: place, "a tool_result block needs its tool_use_id") }
            let text: String
            switch part.content {
            case nil, .null?: text = ""
            case .string(let given)?: text = given
            case .array(let blocks)? where blocks.allSatisfy({ $0["type"] == "text" && $0["text"]?.stringValue != nil }):
                text = blocks.compactMap { $0["text"]?.stringValue }.joined(separator: "\n")
            default: throw WireError(at: place + [JSONKey(stringValue: "content")], "only text in a tool_result is supported")
            }
            return .toolResult(callID: id, text: text, isError: part.isError == true)
        default: return nil
        }
    }

    /// Runs a read of a message's content at `field`, its refusal made a spec error there.
    static func reading<T>(_ field: String, bracketed: Bool, _ body: () throws(WireError) -> T) throws(SpecError) -> T {
        do { return try body() } catch { throw error.specError(within: field, bracketed: bracketed) }
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
