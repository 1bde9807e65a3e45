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
