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

/// A JSON object whose members keep their insertion order.
///
/// Lookup is linear: item objects are small (a row's columns), and a dictionary index would
/// cost more memory per item than it saves in time.
public struct JSONObject: Sendable, Hashable, Sequence {
    public private(set) var members: [(key: String, value: JSONValue)]

    public init(_ members: [(key: String, value: JSONValue)] = []) {
        self.members = members
    }

    public var keys: [String] { members.map(\.key) }
    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }

    public subscript(key: String) -> JSONValue? {
        get { members.first { $0.key == key }?.value }
        set {
            if let index = members.firstIndex(where: { $0.key == key }) {
                if let newValue { members[index].value = newValue } else { members.remove(at: index) }
            } else if let newValue {
                members.append((key, newValue))
            }
        }
    }

    /// About how many bytes of text the object holds (keys and string values; 8 for any other
    /// scalar): a cheap measure of a record's weight, not its JSON length.
    public var textBytes: Int {
        members.reduce(0) { $0 + $1.key.utf8.count + $1.value.textBytes }
    }

    /// A copy with `defaults`' members added where this object has none of that name.
    public func withDefaults(_ defaults: JSONObject) -> JSONObject {
        guard !defaults.isEmpty else { return self }
        var merged = self
        for member in defaults where self[member.key] == nil { merged.members.append(member) }
        return merged
    }

    /// A copy with `key` set to `value`.
    public func with(_ key: String, _ value: JSONValue) -> JSONObject {
        var copy = self
        copy[key] = value
        return copy
    }

    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> {
        members.makeIterator()
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.count == rhs.members.count
            && zip(lhs.members, rhs.members).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        for member in members {
            hasher.combine(member.key)
            hasher.combine(member.value)
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
