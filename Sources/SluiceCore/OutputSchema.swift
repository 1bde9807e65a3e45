/// The subset of JSON Schema that Sluice checks every model result against.
///
/// Compiled once from the spec; an unknown validation keyword is refused at submission
/// rather than silently ignored, because an ignored constraint would let an invalid result be
/// stored as `succeeded`. Annotations (`title`, `description`, `$schema`, `examples`,
/// `default`) are accepted and ignored.
public struct OutputSchema: Sendable, Equatable {
    /// The schema as the user wrote it, sent to providers that support structured output.
    public let json: JSONValue
    /// The compiled root, for code that builds values to fit the schema.
    public let root: Node
    /// `json` written out, once: every prompt and every cache key carries it, and writing it
    /// per item was the largest cost of the result cache's keys.
    public let text: String

    /// `field` names where the schema was given, for its refusals.
    public init(_ json: JSONValue, field: String = "output_schema") throws(SpecError) {
        self.json = json
        self.root = try Node(json, path: field)
        self.text = JSONWriter.string(json)
    }

    /// Two schemas are equal when they were written the same.
    public static func == (lhs: OutputSchema, rhs: OutputSchema) -> Bool { lhs.json == rhs.json }

    /// Every way `value` breaks the schema, as `$.path: message`; empty when it conforms.
    public func validate(_ value: JSONValue) -> [String] {
        var errors: [String] = []
        root.validate(value, path: "$", errors: &errors)
        return errors
    }

    /// One compiled schema; `nil` members are unconstrained.
    public final class Node: Sendable, Equatable {
        public let types: [String]?
        public let properties: [(name: String, schema: Node)]?
        public let required: [String]
        public let additionalProperties: AdditionalProperties
        public let items: Node?
        public let enumValues: [JSONValue]?
        public let minimum: Double?
        public let maximum: Double?
        public let exclusiveMinimum: Double?
        public let exclusiveMaximum: Double?
        public let minLength: Int?
        public let maxLength: Int?
        public let minItems: Int?
        public let maxItems: Int?

        public enum AdditionalProperties: Sendable, Equatable {
            case allowed
            case forbidden
            case schema(Node)
        }

        static let annotations: Set<String> = ["title", "description", "$schema", "examples", "default", "$id", "$comment"]
        static let knownTypes: Set<String> = ["object", "array", "string", "number", "integer", "boolean", "null"]

        init(_ json: JSONValue, path: String) throws(SpecError) {
            guard case .object(let object) = json else {
                throw SpecError(field: path, message: "a schema must be an object")
            }
            let supported: Set<String> = [
                "type", "properties", "required", "additionalProperties", "items", "enum", "const", "minimum", "maximum",
                "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "minItems", "maxItems",
            ]
            for key in object.keys where !supported.contains(key) && !Self.annotations.contains(key) {
                throw SpecError(field: path, message: "unsupported schema keyword '\(key)'")
            }
            switch object["type"] {
            case nil: types = nil
            case .string(let type)?: types = [type]
            case .array(let list)?: types = list.compactMap(\.stringValue)
            default: throw SpecError(field: path + ".type", message: "must be a type name or a list of them")
            }
            for type in types ?? [] where !Self.knownTypes.contains(type) {
                throw SpecError(field: path + ".type", message: "unknown type '\(type)'")
            }
            if let properties = object["properties"] {
                guard case .object(let members) = properties else {
                    throw SpecError(field: path + ".properties", message: "must be an object")
                }
                var compiled: [(name: String, schema: Node)] = []
                for member in members {
                    compiled.append((member.key, try Node(member.value, path: path + ".properties." + member.key)))
                }
                self.properties = compiled
            } else {
                self.properties = nil
            }
            switch object["required"] {
            case nil: required = []
            case .array(let names)? where names.allSatisfy({ $0.stringValue != nil }): required = names.compactMap(\.stringValue)
            default: throw SpecError(field: path + ".required", message: "must be a list of property names")
            }
            switch object["additionalProperties"] {
            case nil, .bool(true)?: additionalProperties = .allowed
            case .bool(false)?: additionalProperties = .forbidden
            case let schema?: additionalProperties = .schema(try Node(schema, path: path + ".additionalProperties"))
            }
            items = try object["items"].map { schema throws(SpecError) in try Node(schema, path: path + ".items") }
            if let constant = object["const"] {
                enumValues = [constant]
            } else if let values = object["enum"] {
                guard case .array(let list) = values, !list.isEmpty else {
                    throw SpecError(field: path + ".enum", message: "must be a non-empty list")
                }
                enumValues = list
            } else {
                enumValues = nil
            }
            func number(_ key: String) throws(SpecError) -> Double? {
                guard let value = object[key] else { return nil }
                guard let number = value.doubleValue else { throw SpecError(field: path + "." + key, message: "must be a number") }
                return number
            }
            func count(_ key: String) throws(SpecError) -> Int? {
                guard let value = object[key] else { return nil }
                guard let number = value.intValue, number >= 0 else {
                    throw SpecError(field: path + "." + key, message: "must be a non-negative integer")
                }
                return number
            }
            minimum = try number("minimum")
            maximum = try number("maximum")
            exclusiveMinimum = try number("exclusiveMinimum")
            exclusiveMaximum = try number("exclusiveMaximum")
            minLength = try count("minLength")
            maxLength = try count("maxLength")
            minItems = try count("minItems")
            maxItems = try count("maxItems")
        }

        public static func == (lhs: Node, rhs: Node) -> Bool { lhs === rhs }

        func matches(type: String, _ value: JSONValue) -> Bool {
            switch (type, value) {
            case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object): true
            case ("number", .int), ("number", .double): true
            case ("integer", _): value.intValue != nil
            default: false
            }
        }

        func validate(_ value: JSONValue, path: String, errors: inout [String]) {
            if let types, !types.contains(where: { matches(type: $0, value) }) {
                errors.append("\(path): expected \(types.joined(separator: " or ")), got \(value.typeName)")
                return
            }
            if let enumValues, !enumValues.contains(where: { Self.equal($0, value) }) {
                let allowed = enumValues.map { JSONWriter.string($0) }.joined(separator: ", ")
                errors.append("\(path): \(JSONWriter.string(value)) is not one of \(allowed)")
            }
            switch value {
            case .int, .double:
                let number = value.doubleValue!
                if let minimum, number < minimum { errors.append("\(path): \(number.shortText) is below the minimum \(minimum.shortText)") }
                if let maximum, number > maximum { errors.append("\(path): \(number.shortText) is above the maximum \(maximum.shortText)") }
                if let exclusiveMinimum, number <= exclusiveMinimum {
                    errors.append("\(path): \(number.shortText) must be greater than \(exclusiveMinimum.shortText)")
                }
                if let exclusiveMaximum, number >= exclusiveMaximum {
                    errors.append("\(path): \(number.shortText) must be less than \(exclusiveMaximum.shortText)")
                }
            case .string(let text):
                let length = text.unicodeScalars.count
                if let minLength, length < minLength { errors.append("\(path): shorter than \(minLength) characters") }
                if let maxLength, length > maxLength { errors.append("\(path): longer than \(maxLength) characters") }
            case .array(let elements):
                if let minItems, elements.count < minItems { errors.append("\(path): fewer than \(minItems) items") }
                if let maxItems, elements.count > maxItems { errors.append("\(path): more than \(maxItems) items") }
                if let items {
                    for (index, element) in elements.enumerated() { items.validate(element, path: "\(path)[\(index)]", errors: &errors) }
                }
            case .object(let object):
                for name in required where object[name] == nil { errors.append("\(path): missing required property '\(name)'") }
                for member in object {
                    let memberPath = "\(path).\(member.key)"
                    if let schema = properties?.first(where: { $0.name == member.key })?.schema {
                        schema.validate(member.value, path: memberPath, errors: &errors)
                        continue
                    }
                    switch additionalProperties {
                    case .allowed: break
                    case .forbidden: errors.append("\(path): unexpected property '\(member.key)'")
                    case .schema(let schema): schema.validate(member.value, path: memberPath, errors: &errors)
                    }
                }
            case .null, .bool:
                break
            }
        }

        /// JSON equality, where `1` and `1.0` are the same number.
        static func equal(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
            if let left = lhs.doubleValue, let right = rhs.doubleValue { return left == right }
            return lhs == rhs
        }
    }
}

extension Double {
    /// `10` rather than `10.0` in messages about integral limits.
    var shortText: String {
        rounded() == self && abs(self) < 1e15 ? String(Int(self)) : String(self)
    }
}
