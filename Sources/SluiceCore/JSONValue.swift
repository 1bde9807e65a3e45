/// A JSON value that keeps object members in the order they were written.
///
/// Item inputs must come back out in their original field order (CSV columns, JSON keys), and
/// Foundation's `JSONSerialization` does not promise that, so Sluice carries its own model.
/// Integers and doubles are kept apart so that `"integer"` in an output schema and `12` vs
/// `12.0` in results mean what the user wrote.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// About how many bytes of text the value holds (see ``JSONObject/textBytes``).
    public var textBytes: Int {
        switch self {
        case .string(let text): text.utf8.count
        case .array(let values): values.reduce(0) { $0 + $1.textBytes }
        case .object(let object): object.textBytes
        default: 8
        }
    }

    /// The member `key` when this is an object, otherwise `nil`.
    public subscript(key: String) -> JSONValue? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    /// Follows a dotted path such as `customer.name` through nested objects.
    public func value(atPath path: some Sequence<Substring>) -> JSONValue? {
        var current: JSONValue? = self
        for key in path { current = current?[String(key)] }
        return current
    }

    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let object) = self { return object }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let array) = self { return array }
        return nil
    }

    /// A numeric view of `.int` and `.double`.
    public var doubleValue: Double? {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }

    /// `.int`, or a `.double` with no fractional part that fits in `Int`.
    public var intValue: Int? {
        switch self {
        case .int(let value): value
        case .double(let value) where value.rounded() == value && abs(value) < 9.0e15: Int(value)
        default: nil
        }
    }

    /// The JSON type name used in schema errors and messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int: "integer"
        case .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// How a value reads inside a prompt or a CSV cell: strings as themselves, anything else
    /// as compact JSON.
    public var plainText: String {
        switch self {
        case .string(let text): text
        case .null: ""
        default: JSONWriter.string(self)
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByFloatLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(nilLiteral: ()) { self = .null }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements.map { (key: $0.0, value: $0.1) }))
    }
}
