import Crypto
import Foundation
import SluiceCore

/// Names requests in the result cache: the SHA-256 of everything that decides the answer —
/// provider, model, system prompt, parameters, output schema, tools and messages (a group's history
/// included) — and of the scope the answer may be served in (its owner's, unless the
/// configuration shares entries; see ``CacheSettings``). Two requests share a key only when a
/// model would see exactly the same call for the same scope.
///
/// Each part goes into the hash as it is, after its length, so no two different requests
/// hash the same text — without writing a canonical JSON document first, which cost more than
/// the hash. The parts a job's requests share (all but the messages, for a template) are
/// hashed once and the hash's state reused: they were four fifths of the bytes hashed per item.
struct ResultCacheKeys {
    /// Changes when what the key covers (or how) changes: old entries simply stop matching.
    static let version = "sluice-cache-3"

    let provider: String
    let scope: String
    /// The shared parts last hashed, and the hash's state after them.
    private var shared: (model: String, system: String?, params: JSONObject, schema: String?, state: SHA256)?

    init(provider: String, scope: String) {
        self.provider = provider
        self.scope = scope
    }

    mutating func key(for request: ModelRequest) -> String {
        // Tools decide the answer as a schema does: they are hashed with it (none: as before).
        var schema = request.outputSchema?.text
        if !request.tools.isEmpty { schema = (schema ?? "") + "\u{1}tools" + Self.tools(of: request) }
        var state: SHA256
        if let shared, shared.model == request.model, shared.system == request.system, shared.params == request.params,
            shared.schema == schema
        {
            state = shared.state
        } else {
            var bytes: [UInt8] = []
            Self.append(Self.version, to: &bytes)
            Self.append(scope, to: &bytes)
            Self.append(provider, to: &bytes)
            Self.append(request.model, to: &bytes)
            Self.append(request.system.map { "1" + $0 } ?? "0", to: &bytes)
            let params = request.params.isEmpty ? "" : JSONWriter.string(.object(JSONObject(request.params.sorted { $0.key < $1.key })))
            Self.append(params, to: &bytes)
            Self.append(schema ?? "", to: &bytes)
            state = SHA256()
            state.update(data: bytes)
            shared = (request.model, request.system, request.params, schema, state)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(256)
        Self.append(String(request.messages.count), to: &bytes)
        for message in request.messages {
            Self.append(message.role.rawValue, to: &bytes)
            guard !message.isText else {
                Self.append(message.content, to: &bytes)
                continue
            }
            // Each part tagged with a byte no role or text part starts with (a text-only
            // message keys as it always has).
            for part in message.parts {
                switch part {
                case .text(let text): Self.append("\u{1}t" + text, to: &bytes)
                case .image(let image):
                    Self.append("\u{1}d" + (image.detail ?? ""), to: &bytes)
                    switch image.source {
                    case .url(let url): Self.append("\u{1}u" + url, to: &bytes)
                    case .inline(_, let data):
                        Self.append("\u{1}i", to: &bytes)
                        withUnsafeBytes(of: UInt64(data.count).littleEndian) { bytes.append(contentsOf: $0) }
                        bytes.append(contentsOf: data)
                    }
                case .toolCall(let call): Self.append("\u{1}c" + call.id + "\u{0}" + call.name + "\u{0}" + call.arguments, to: &bytes)
                case .toolResult(let id, let text, let isError):
                    Self.append("\u{1}r" + (isError ? "e" : "") + id + "\u{0}" + text, to: &bytes)
                case .document(let document):
                    Self.append("\u{1}D" + (document.title ?? ""), to: &bytes)
                    switch document.source {
                    case .pdf(let base64): Self.append("\u{1}p" + base64, to: &bytes)
                    case .url(let url): Self.append("\u{1}u" + url, to: &bytes)
                    case .text(let text): Self.append("\u{1}t" + text, to: &bytes)
                    }
                }
            }
        }
        state.update(data: bytes)
        return Self.hex(state.finalize())
    }

    /// A request's tools, how it may choose among them, and whether it answers with one.
    static func tools(of request: ModelRequest) -> String {
        let definitions = request.tools.map { tool in
            JSONWriter.string(
                [
                    "name": .string(tool.name), "description": tool.description.map(JSONValue.string) ?? .null,
                    "parameters": tool.parameters,
                    "strict": tool.strict.map(JSONValue.bool) ?? .null,
                ])
        }
        let choice =
            switch request.toolChoice {
            case nil: "-"
            case .auto?: "auto"
            case .never?: "none"
            case .required?: "required"
            case .tool(let name)?: "tool:" + name
            }
        return definitions.joined(separator: "\u{0}") + "\u{1}" + choice + "\u{1}" + "\(request.parallelToolCalls.map(String.init) ?? "-")"
            + (request.answersWithTool ? "\u{1}answer" : "")
    }

    /// A part as it goes into the hash: its length in UTF-8 bytes, then the bytes.
    private static func append(_ text: String, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: UInt64(text.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: text.utf8)
    }

    /// Lower-case hex, written byte by byte: `String(format:)` per byte cost more than the hash.
    static func hex(_ digest: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in digest {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
