import Foundation

/// A prompt with `{{field}}` and `{{a.b}}` placeholders filled from an item's fields.
///
/// Parsed once per job so that a placeholder the input cannot fill is found when the job is
/// submitted, not when the millionth item reaches a model.
public struct PromptTemplate: Sendable, Equatable {
    enum Segment: Sendable, Equatable {
        case literal(String)
        case field(String)
    }

    public let source: String
    let segments: [Segment]

    /// Every placeholder, in order of first appearance, without duplicates.
    public let fields: [String]

    public init(_ source: String) throws(SpecError) {
        self.source = source
        var segments: [Segment] = []
        var fields: [String] = []
        var rest = Substring(source)
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { segments.append(.literal(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw SpecError(field: "template", message: "unclosed '{{' in the template")
            }
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, !name.contains("{"), !name.hasPrefix("."), !name.hasSuffix("."), !name.contains("..") else {
                throw SpecError(field: "template", message: "invalid placeholder '{{\(name)}}' in the template")
            }
            segments.append(.field(name))
            if !fields.contains(name) { fields.append(name) }
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { segments.append(.literal(String(rest))) }
        self.segments = segments
        self.fields = fields
    }

    /// The value a placeholder names in `fields`: a member literally called `a.b` wins (CSV
    /// headers often contain dots), otherwise the dotted path is followed through objects.
    public static func lookup(_ name: String, in fields: JSONObject) -> JSONValue? {
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
            !columns.contains(name) && !columns.contains(String(name.split(separator: ".").first ?? ""))
        }
    }

    /// Fills every placeholder; strings go in as they are, other values as compact JSON.
    public func render(_ fields: JSONObject) throws(SpecError) -> String {
        var output = ""
        for segment in segments {
            switch segment {
            case .literal(let text): output += text
            case .field(let name):
                guard let value = Self.lookup(name, in: fields), value != .null else {
                    throw SpecError(field: "template", message: "the item has no field '\(name)'")
                }
                output += value.plainText
            }
        }
        return output
    }
}
