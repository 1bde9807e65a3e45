public import SluiceCore

/// An output schema in the strict subset providers enforce while they generate (OpenAI's
/// `json_schema` with `strict: true`, Anthropic's `output_format`), and the answer mapped back.
///
/// Strict mode needs every property of every object required and `additionalProperties: false`,
/// and knows fewer keywords. So an optional property becomes a required one that may be `null`
/// (and ``restore(_:original:)`` drops the `null`s again), and the keywords strict mode refuses
/// (`minLength`, `maxLength`) are left out: Sluice's own validation still checks every reply
/// against the schema as written, so nothing the user asked for is given up.
public enum StrictSchema {
    /// The keywords a strict schema may carry; the others are left out.
    static let kept: Set<String> = [
        "type", "properties", "required", "additionalProperties", "items", "enum", "minimum", "maximum", "exclusiveMinimum",
        "exclusiveMaximum", "minItems", "maxItems", "description", "title",
    ]

    /// `schema` in the strict subset, or `nil` when it has no strict form: its root is not an
    /// object, or some part leaves its type open (an object without `properties`, a value with no
    /// `type`), which strict mode cannot express.
    public static func strict(_ schema: JSONValue) -> JSONValue? {
        guard schema["type"] == "object" else { return nil }
        return convert(schema)
    }

    static func convert(_ schema: JSONValue) -> JSONValue? {
        guard case .object(let given) = schema, given["type"] != nil || given["enum"] != nil else { return nil }
        var strict = JSONObject(given.filter { kept.contains($0.key) })
        if let items = given["items"] {
            guard let converted = convert(items) else { return nil }
            strict["items"] = converted
        }
        let types = typeNames(given["type"])
        guard types.contains("object") else {
            strict["additionalProperties"] = nil
            strict["properties"] = nil
            strict["required"] = nil
            return .object(strict)
        }
        guard case .object(let properties)? = given["properties"], !properties.isEmpty else { return nil }
        let required = Set(given["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        var converted = JSONObject()
        for (name, property) in properties {
            guard let value = convert(property) else { return nil }
            converted[name] = required.contains(name) ? value : nullable(value)
        }
        strict["properties"] = .object(converted)
        strict["required"] = .array(properties.keys.map(JSONValue.string))
        strict["additionalProperties"] = false
        return .object(strict)
    }

    /// `schema` also admitting `null`: what an optional property becomes.
    static func nullable(_ schema: JSONValue) -> JSONValue {
        guard case .object(var object) = schema else { return schema }
        let types = typeNames(object["type"])
        if !types.isEmpty, !types.contains("null") { object["type"] = .array((types + ["null"]).map(JSONValue.string)) }
        if case .array(let values)? = object["enum"], !values.contains(.null) { object["enum"] = .array(values + [.null]) }
        return .object(object)
    }

    static func typeNames(_ type: JSONValue?) -> [String] {
        switch type {
        case .string(let name)?: [name]
        case .array(let names)?: names.compactMap(\.stringValue)
        default: []
        }
    }

    /// An answer to the strict schema as an answer to `original`: a `null` given for a property
    /// the original leaves optional, and does not let be `null`, is dropped (the strict form
    /// made it required).
    public static func restore(_ answer: JSONValue, original: JSONValue) -> JSONValue {
        switch answer {
        case .object(let object):
            guard case .object(let properties)? = original["properties"] else { return answer }
            let required = Set(original["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            var restored = JSONObject()
            for (name, value) in object {
                guard let schema = properties[name] else {
                    restored[name] = value
                    continue
                }
                if value == .null, !required.contains(name), !admitsNull(schema) { continue }
                restored[name] = restore(value, original: schema)
            }
            return .object(restored)
        case .array(let values):
            guard let items = original["items"] else { return answer }
            return .array(values.map { restore($0, original: items) })
        default:
            return answer
        }
    }

    static func admitsNull(_ schema: JSONValue) -> Bool {
        typeNames(schema["type"]).contains("null") || schema["enum"]?.arrayValue?.contains(.null) == true
    }
}
