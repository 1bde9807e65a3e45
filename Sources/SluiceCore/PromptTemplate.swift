import Foundation

/// A prompt with `{{field}}` and `{{a.b}}` placeholders filled from an item's fields, `{{.}}`
/// for the whole record as JSON (for lists whose columns the spec does not know), and
/// `{{#field}}…{{/field}}` sections shown only when the item has that field.
///
/// Parsed once per job so that a placeholder the input cannot fill is found when the job is
/// submitted, not when the millionth item reaches a model. A section is how a template says a
/// column is optional (plan 002's `URL` and `lang`): its field may be absent, null or empty,
/// and the section's text then vanishes — nothing else in a template is ever filled by default.
public struct PromptTemplate: Sendable, Equatable {
    indirect enum Segment: Sendable, Equatable {
        case literal(String)
        case field(String)
        case section(String, [Segment])
    }

    public let source: String
    let segments: [Segment]

    /// Every placeholder an item must fill, in order of first appearance, without duplicates.
    public let fields: [String]
    /// The fields that open sections: used when present, never required.
    public let optionalFields: [String]

    public init(_ source: String) throws(SpecError) {
        var rest = Substring(source)
        let segments = try Self.parse(&rest, closing: nil, depth: 0)
        self.init(source: source, segments: segments)
    }

    init(source: String, segments: [Segment]) {
        self.source = source
        self.segments = segments
        var fields: [String] = []
        var optional: [String] = []
        func visit(_ segments: [Segment]) {
            for segment in segments {
                switch segment {
                case .literal: break
                case .field(let name): if !fields.contains(name) { fields.append(name) }
                case .section(let name, let body):
                    if !optional.contains(name) { optional.append(name) }
                    visit(body)
                }
            }
        }
        visit(segments)
        self.fields = fields.filter { !optional.contains($0) }
        optionalFields = optional
    }

    /// How deep sections may nest. Parsing and rendering recurse once per level, so without a
    /// bound a few hundred kilobytes of `{{#a}}` overflow the stack and end the process.
    public static let maxSectionDepth = 32

    /// Parses segments up to the `{{/closing}}` tag (or the end, at the top level).
    static func parse(_ rest: inout Substring, closing: String?, depth: Int) throws(SpecError) -> [Segment] {
        var segments: [Segment] = []
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { segments.append(.literal(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw SpecError(field: "template", message: "unclosed '{{' in the template")
            }
            var tag = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            rest = rest[close.upperBound...]
            let marker = tag.first
            if marker == "#" || marker == "/" { tag = String(tag.dropFirst()).trimmingCharacters(in: .whitespaces) }
            guard
                tag == Self.wholeRecord && marker != "#" && marker != "/"
                    || (!tag.isEmpty && !tag.contains("{") && !tag.contains("#") && !tag.hasPrefix(".") && !tag.hasSuffix(".")
                        && !tag.contains(".."))
            else {
                throw SpecError(field: "template", message: "invalid placeholder '{{\(tag)}}' in the template")
            }
            switch marker {
            case "#":
                guard depth < maxSectionDepth else {
                    throw SpecError(field: "template", message: "sections nest more than \(maxSectionDepth) deep in the template")
                }
                segments.append(.section(tag, try parse(&rest, closing: tag, depth: depth + 1)))
            case "/":
                guard tag == closing else {
                    throw SpecError(field: "template", message: "'{{/\(tag)}}' closes no open section in the template")
                }
                return segments
            default: segments.append(.field(tag))
            }
        }
        if let closing { throw SpecError(field: "template", message: "section '{{#\(closing)}}' is never closed in the template") }
        if !rest.isEmpty { segments.append(.literal(String(rest))) }
        rest = rest[rest.endIndex...]
        return segments
    }

    /// The placeholder for the whole record.
    public static let wholeRecord = "."

    /// The value a placeholder names in `fields`: a member literally called `a.b` wins (CSV
    /// headers often contain dots), otherwise the dotted path is followed through objects.
    public static func lookup(_ name: String, in fields: JSONObject) -> JSONValue? {
        if name == wholeRecord { return .object(fields) }
        if let exact = fields[name] { return exact }
        guard name.contains(".") else { return nil }
        return JSONValue.object(fields).value(atPath: name.split(separator: "."))
    }

    /// Placeholders that `fields` cannot fill (absent or null).
    public func missingFields(in fields: JSONObject) -> [String] {
        self.fields.filter { name in
            guard let value = Self.lookup(name, in: fields) else { return true }
            return value == .null
        }
    }

    /// Placeholders that a set of top-level column names cannot fill.
    public func missingFields(inColumns columns: [String]) -> [String] {
        fields.filter { name in
            name != Self.wholeRecord && !columns.contains(name) && !columns.contains(String(name.split(separator: ".").first ?? ""))
        }
    }

    /// Fills every placeholder; strings go in as they are, other values as compact JSON.
    public func render(_ fields: JSONObject) throws(SpecError) -> String {
        var output = ""
        try Self.render(segments, fields: fields, into: &output)
        return output
    }

    static func render(_ segments: [Segment], fields: JSONObject, into output: inout String) throws(SpecError) {
        for segment in segments {
            switch segment {
            case .literal(let text): output += text
            case .field(let name):
                guard let value = lookup(name, in: fields), value != .null else {
                    throw SpecError(field: "template", message: "the item has no field '\(name)'")
                }
                output += value.plainText
            case .section(let name, let body):
                guard let value = lookup(name, in: fields), !value.isBlank else { continue }
                try render(body, fields: fields, into: &output)
            }
        }
    }

    /// The same template reading other columns: `columns` maps a placeholder's name (or the
    /// first part of a dotted one) to the column that fills it.
    public func renamingFields(_ columns: [String: String]) -> PromptTemplate {
        func rename(_ name: String) -> String {
            guard name != Self.wholeRecord else { return name }
            if let column = columns[name] { return column }
            let parts = name.split(separator: ".", maxSplits: 1)
            guard parts.count == 2, let column = columns[String(parts[0])] else { return name }
            return column + "." + parts[1]
        }
        func renamed(_ segments: [Segment]) -> [Segment] {
            segments.map { segment in
                switch segment {
                case .literal: segment
                case .field(let name): .field(rename(name))
                case .section(let name, let body): .section(rename(name), renamed(body))
                }
            }
        }
        let segments = renamed(segments)
        return PromptTemplate(source: Self.source(of: segments), segments: segments)
    }

    static func source(of segments: [Segment]) -> String {
        segments.map { segment in
            switch segment {
            case .literal(let text): text
            case .field(let name): "{{\(name)}}"
            case .section(let name, let body): "{{#\(name)}}" + source(of: body) + "{{/\(name)}}"
            }
        }.joined()
    }
}

extension JSONValue {
    /// Absent for a section: null, false, an empty string (a blank CSV cell) or an empty array.
    var isBlank: Bool {
        switch self {
        case .null, .bool(false): true
        case .string(let text): text.trimmingCharacters(in: .whitespaces).isEmpty
        case .array(let values): values.isEmpty
        default: false
        }
    }
}
