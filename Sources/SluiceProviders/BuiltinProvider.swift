import Foundation
public import SluiceCore

/// The offline provider: answers computed on this machine, deterministically, from the items'
/// own fields — so Sluice works end to end with no network and no key.
///
/// It is a real, if modest, analyser rather than a stand-in: a lexicon sentiment reading of
/// the item's text drives scores, labels and booleans; keywords, summaries and fields that the
/// input already has fill the rest, shaped to the spec's output schema. Its model name says
/// `offline` in every result, and the engine validates its replies like any other provider's.
public struct BuiltinProvider: ModelProvider {
    public let name: String
    public static let model = "sluice-offline"
    let lexicon = SentimentLexicon()

    public init(name: String = "builtin") {
        self.name = name
    }

    public func complete(_ request: ModelRequest) async throws(ProviderFailure) -> ModelReply {
        if case .embeddings(let texts) = request.operation {
            let dimensions = request.params["dimensions"]?.intValue ?? OfflineEmbedding.defaultDimensions
            let vectors = texts.map { OfflineEmbedding.vector(of: $0, dimensions: dimensions) }
            let tokens = texts.reduce(0) { $0 + OfflineEmbedding.words(of: $1).count }
            return ModelReply(
                text: "", usage: TokenUsage(promptTokens: tokens, completionTokens: 0), model: Self.model, embeddings: vectors)
        }
        if let tool = Self.toolToCall(request) {
            // Answered by calling the tool: its arguments shaped by its parameters, as a schema's
            // answer is (a pack's tool holds the keyed results).
            let schema = try? OutputSchema(tool.parameters, field: "parameters")
            var asked = request
            asked.outputSchema = schema
            var reply = try await complete(asked.withoutTools)
            reply.toolCalls = [ToolCall(id: "call_offline_0", name: tool.name, arguments: reply.text)]
            reply.text = ""
            reply.finishReason = "tool_calls"
            return reply
        }
        let text: String
        if request.isPacked {
            let entry = request.outputSchema?.root.properties?.first { $0.name == "results" }?.schema.items
            let itemSchema = entry?.properties?.first { $0.name == "output" }?.schema
            let answers: [JSONValue] = zip(request.rowKeys, request.inputs).map { key, input in
                ["key": .string(key), "output": answer(for: input, schema: itemSchema)]
            }
            text = JSONWriter.string(["results": .array(answers)])
        } else if let schema = request.outputSchema, let input = request.inputs.first {
            text = JSONWriter.string(answer(for: Self.seeing(request, input), schema: schema.root))
        } else {
            let seen = Self.seeing(request, request.inputs.first ?? JSONObject())
            let reading = lexicon.read(Self.text(of: seen))
            text =
                "[offline] Sentiment: \(reading.label) (\(Self.format(reading.score))). Key terms: "
                + (reading.keywords.prefix(5).joined(separator: ", ").nonEmpty ?? "none") + "."
                + (seen["images"]?.arrayValue.map { " Images: " + $0.map(\.plainText).joined(separator: "; ") + "." } ?? "")
        }
        return ModelReply(text: text, usage: TokenUsage(), model: Self.model)
    }

    /// The tool a call's reply calls, when it offers tools and does not forbid them: the one it
    /// names, else the first.
    static func toolToCall(_ request: ModelRequest) -> ToolDefinition? {
        switch request.toolChoice {
        case .never?: return nil
        case .tool(let name)?: return request.tools.first { $0.name == name }
        default: return request.tools.first
        }
    }

    /// The item's fields and, when its call carries images, what can be read of them here —
    /// each one's format and size from its header, a PNG's or GIF's main colours
    /// (``ImageColours``); a URL is not fetched (this provider uses no network) — under
    /// `images`, so the answer describes them.
    static func seeing(_ request: ModelRequest, _ input: JSONObject) -> JSONObject {
        let images = request.messages.last?.images ?? []
        guard !images.isEmpty else { return input }
        var seen = input
        seen["images"] = .array(
            images.map { image in
                switch image.source {
                case .url(let url):
                    .string("an image at \(URL(string: url)?.host ?? url), not fetched (the offline provider uses no network)")
                case .inline(let probe, let bytes):
                    .string(
                        "a \(probe.format.rawValue.uppercased()) image of \(probe.width) × \(probe.height) pixels"
                            + colours(bytes, probe: probe))
                }
            })
        return seen
    }

    /// What an inline image is mostly made of, as its description goes on.
    static func colours(_ bytes: [UInt8], probe: ImageProbe) -> String {
        if probe.format == .jpeg || probe.format == .webp {
            return ", its colours not read (the offline provider decodes PNG and GIF only)"
        }
        guard let shares = ImageColours.dominant(bytes, probe: probe) else { return ", its pixels not readable here" }
        return ", mostly " + shares.map { "\($0.hex) (\($0.percent)%)" }.joined(separator: ", ")
    }

    /// The answer for one item: a JSON value shaped by `schema`, or free text without one.
    public func answer(for input: JSONObject, schema: OutputSchema.Node?) -> JSONValue {
        let source = Self.text(of: input)
        let reading = lexicon.read(source)
        let context = Context(input: input, text: source, reading: reading)
        guard let schema else { return .string(context.summary(maxLength: nil)) }
        return value(for: schema, name: "", context: context)
    }

    struct Context {
        var input: JSONObject
        var text: String
        var reading: SentimentLexicon.Reading

        /// The opening sentence of the text, cut at a word boundary to fit.
        func summary(maxLength: Int?) -> String {
            let collapsed = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            var sentence = collapsed
            if let end = collapsed.firstIndex(where: { ".!?".contains($0) }) { sentence = String(collapsed[...end]) }
            let limit = maxLength ?? 200
            guard sentence.unicodeScalars.count > limit else { return sentence }
            var cut = String(String.UnicodeScalarView(sentence.unicodeScalars.prefix(max(0, limit - 1))))
            if let space = cut.lastIndex(of: " "), cut.distance(from: cut.startIndex, to: space) > limit / 2 { cut = String(cut[..<space]) }
            return cut + "…"
        }

        func explanation() -> String {
            var parts = ["offline lexicon sentiment \(BuiltinProvider.format(reading.score)) (\(reading.label))"]
            if !reading.positiveWords.isEmpty { parts.append("positive: " + reading.positiveWords.prefix(5).joined(separator: ", ")) }
            if !reading.negativeWords.isEmpty { parts.append("negative: " + reading.negativeWords.prefix(5).joined(separator: ", ")) }
            return parts.joined(separator: "; ")
        }
    }

    func value(for node: OutputSchema.Node, name: String, context: Context) -> JSONValue {
        let lowerName = name.lowercased()
        if let enumValues = node.enumValues { return choose(from: enumValues, context: context) }
        let type = node.types?.first { $0 != "null" } ?? node.types?.first ?? (node.properties != nil ? "object" : "string")
        // A field the input has — and when combining parts, one named `something_name` too (a
        // job's `course_title` var for the combined `title`).
        let combining = context.input["parts"]?.arrayValue != nil
        let given =
            name.isEmpty
            ? nil : context.input[name] ?? (combining ? context.input.first { $0.key.hasSuffix("_" + name) }?.value : nil)
        if let given, node.types.map({ types in types.contains { Self.matches($0, given) } }) ?? true {
            return given
        }
        switch type {
        case "object":
            var object = JSONObject()
            for property in node.properties ?? [] {
                object[property.name] = value(for: property.schema, name: property.name, context: context)
            }
            return .object(object)
        case "array":
            // Combining parts (a reduce step): one element per part, each made from its part.
            if let items = node.items, items.properties != nil, case .array(let parts)? = context.input["parts"], !parts.isEmpty {
                let count = min(max(node.minItems ?? 0, parts.count), node.maxItems ?? Int.max)
                return .array(
                    (0..<count).map { index in
                        let part = parts[index % parts.count].objectValue ?? JSONObject([("text", parts[index % parts.count])])
                        let text = Self.text(of: part)
                        return value(for: items, name: "", context: Context(input: part, text: text, reading: lexicon.read(text)))
                    })
            }
            let words =
                lowerName.contains("negative")
                ? context.reading.negativeWords
                : (lowerName.contains("positive") ? context.reading.positiveWords : context.reading.keywords)
            let count = min(max(node.minItems ?? 0, min(words.count, 5)), node.maxItems ?? Int.max)
            return .array(
                (0..<count).map { index in
                    if let items = node.items, items.types?.contains("string") != true, items.types != nil {
                        return value(for: items, name: String(name.dropLast()), context: context)
                    }
                    return .string(words.isEmpty ? context.reading.label : words[index % words.count])
                })
        case "integer", "number":
            return number(for: node, isInteger: type == "integer", score: context.reading.score)
        case "boolean":
            return .bool(context.reading.score >= 0)
        case "null":
            return .null
        default:
            var text: String
            if ["sentiment", "label", "tone", "mood", "polarity", "category", "class"].contains(where: lowerName.contains) {
                text = context.reading.label
            } else if ["keyword", "topic", "tag", "term"].contains(where: lowerName.contains) {
                text = context.reading.keywords.prefix(5).joined(separator: ", ")
            } else if ["reason", "explanation", "rationale", "justification", "why", "comment", "feedback"].contains(
                where: lowerName.contains)
            {
                text = context.explanation()
            } else {
                text = context.summary(maxLength: node.maxLength)
            }
            if let minLength = node.minLength, text.unicodeScalars.count < minLength {
                text += (text.isEmpty ? "" : " — ") + context.explanation()
            }
            if let maxLength = node.maxLength, text.unicodeScalars.count > maxLength {
                text = String(String.UnicodeScalarView(text.unicodeScalars.prefix(maxLength)))
            }
            return .string(text)
        }
    }

    /// Maps the sentiment score (−1…1) onto the schema's range; unbounded integers use 1…10.
    func number(for node: OutputSchema.Node, isInteger: Bool, score: Double) -> JSONValue {
        let low = node.minimum ?? node.exclusiveMinimum.map { $0 + (isInteger ? 1 : 0.001) } ?? (isInteger ? 1 : -1)
        let high = node.maximum ?? node.exclusiveMaximum.map { $0 - (isInteger ? 1 : 0.001) } ?? (isInteger ? 10 : 1)
        let position = (score + 1) / 2
        let raw = low + position * (high - low)
        if isInteger { return .int(Int(min(max(raw.rounded(), low.rounded(.up)), high.rounded(.down)))) }
        return .double((raw * 1000).rounded() / 1000)
    }

    /// Picks an enum value: the sentiment label when the enum names one, otherwise the value
    /// at the score's position along the list.
    func choose(from values: [JSONValue], context: Context) -> JSONValue {
        let names = Self.labelSynonyms[context.reading.label] ?? []
        for value in values {
            if let text = value.stringValue, names.contains(text) || names.contains(text.lowercased()) { return value }
        }
        let position = (context.reading.score + 1) / 2
        return values[min(values.count - 1, Int((position * Double(values.count - 1)).rounded()))]
    }

    /// Enum spellings that mean each sentiment label.
    static let labelSynonyms: [String: Set<String>] = [
        "positive": ["positive", "pos", "good", "happy", "satisfied", "yes"],
        "negative": ["negative", "neg", "bad", "unhappy", "dissatisfied", "no"],
        "neutral": ["neutral", "mixed", "none", "ok"],
    ]

    static func matches(_ type: String, _ value: JSONValue) -> Bool {
        switch (type, value) {
        case ("string", .string), ("boolean", .bool), ("array", .array), ("object", .object), ("null", .null): true
        case ("number", .int), ("number", .double): true
        case ("integer", _): value.intValue != nil
        default: false
        }
    }

    /// The words an item carries: its string values, without identifiers, role markers and
    /// one-word labels (a channel, a category), which say nothing about sentiment.
    static func text(of input: JSONObject) -> String {
        var parts: [String] = []
        func collect(_ value: JSONValue, key: String) {
            switch value {
            case .string(let text):
                let lower = key.lowercased()
                if lower == "role" || lower.hasSuffix("id") || !text.contains(where: \.isWhitespace) { return }
                parts.append(text)
            case .array(let elements): for element in elements { collect(element, key: key) }
            case .object(let object): for member in object { collect(member.value, key: member.key) }
            default: break
            }
        }
        collect(.object(input), key: "")
        return parts.joined(separator: "\n")
    }

    static func format(_ score: Double) -> String { String(format: "%.2f", score) }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
