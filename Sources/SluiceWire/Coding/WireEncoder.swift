public import SluiceCore

/// Writes `Encodable` wire shapes as a ``JSONValue``, members in the order the shape encodes
/// them, so a request body goes out through the project's own writer like every other body.
public enum WireEncoder {
    public static func encode(_ shape: some Encodable) -> JSONValue {
        let root = Slot()
        do {
            try shape.encode(to: ValueEncoder(slot: root, codingPath: []))
        } catch {
            // Nothing in this encoder throws; a shape's own `encode(to:)` that did would be a bug.
            preconditionFailure("a wire shape failed to encode: \(error)")
        }
        return root.value
    }
}

/// Where one encoded value goes: filled in as the shape writes it, read once at the end.
final class Slot {
    enum Content {
        case empty
        case value(JSONValue)
        case object([(key: String, slot: Slot)])
        case array([Slot])
    }

    var content = Content.empty

    var value: JSONValue {
        switch content {
        case .empty: .object(JSONObject())
        case .value(let value): value
        case .object(let members): .object(JSONObject(members.map { ($0.key, $0.slot.value) }))
        case .array(let slots): .array(slots.map(\.value))
        }
    }

    /// The slot for member `key`, made an object first if it is not one yet.
    func member(_ key: String) -> Slot {
        var members: [(key: String, slot: Slot)] = []
        if case .object(let existing) = content { members = existing }
        if let found = members.first(where: { $0.key == key }) { return found.slot }
        // Let go of the stored list first, so the append below does not copy it.
        content = .empty
        let slot = Slot()
        members.append((key, slot))
        content = .object(members)
        return slot
    }

    /// A new slot at the end of the array this slot holds.
    func appended() -> Slot {
        var slots: [Slot] = []
        if case .array(let existing) = content { slots = existing }
        content = .empty
        let slot = Slot()
        slots.append(slot)
        content = .array(slots)
        return slot
    }
}

/// One value being encoded, into its slot, under `base` at `key` (the path put together only
/// when asked for).
struct ValueEncoder: Encoder, SingleValueEncodingContainer {
    let slot: Slot
    let base: [any CodingKey]
    var key: (any CodingKey)?
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(slot: Slot, codingPath: [any CodingKey], key: (any CodingKey)? = nil) {
        self.slot = slot
        base = codingPath
        self.key = key
    }

    var codingPath: [any CodingKey] { key.map { base + [$0] } ?? base }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object = slot.content {} else { slot.content = .object([]) }
        return KeyedEncodingContainer(ObjectContainer<Key>(slot: slot, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array = slot.content {} else { slot.content = .array([]) }
        return ArrayContainer(slot: slot, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { self }

    func encodeNil() { slot.content = .value(.null) }
    func encode(_ value: Bool) { slot.content = .value(.bool(value)) }
    func encode(_ value: String) { slot.content = .value(.string(value)) }
    func encode(_ value: Double) { slot.content = .value(.double(value)) }
    func encode(_ value: Float) { slot.content = .value(.double(Double(value))) }
    func encode(_ value: Int) { slot.content = .value(.int(value)) }
    func encode(_ value: Int8) { slot.content = .value(.int(Int(value))) }
    func encode(_ value: Int16) { slot.content = .value(.int(Int(value))) }
    func encode(_ value: Int32) { slot.content = .value(.int(Int(value))) }
    func encode(_ value: Int64) { slot.content = .value(.int(Int(value))) }
    func encode(_ value: UInt) { slot.content = .value(.int(Int(truncatingIfNeeded: value))) }
    func encode(_ value: UInt8) { slot.content = .value(.int(Int(value))) }
    func encode(_ value: UInt16) { slot.content = .value(.int(Int(value))) }
    func encode(_ value: UInt32) { slot.content = .value(.int(Int(value))) }
    func encode(_ value: UInt64) { slot.content = .value(.int(Int(truncatingIfNeeded: value))) }

    func encode<Value: Encodable>(_ value: Value) throws {
        // A tree kept whole goes in as it is (a type comparison, cheaper than a cast's search).
        if Value.self == JSONValue.self {
            slot.content = .value(value as! JSONValue)
        } else if Value.self == JSONObject.self {
            slot.content = .value(.object(value as! JSONObject))
        } else if Value.self == String.self {
            slot.content = .value(.string(value as! String))
        } else {
            try value.encode(to: self)
        }
    }
}

private struct ObjectContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let slot: Slot
    let codingPath: [any CodingKey]

    func encoder(_ key: Key) -> ValueEncoder { ValueEncoder(slot: slot.member(key.stringValue), codingPath: codingPath, key: key) }

    mutating func encodeNil(forKey key: Key) { encoder(key).encodeNil() }
    mutating func encode<Value: Encodable>(_ value: Value, forKey key: Key) throws { try encoder(key).encode(value) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey>
    {
        encoder(key).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer { encoder(key).unkeyedContainer() }
    mutating func superEncoder() -> any Encoder { ValueEncoder(slot: slot.member("super"), codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { encoder(key) }
}

private struct ArrayContainer: UnkeyedEncodingContainer {
    let slot: Slot
    let codingPath: [any CodingKey]
    var count: Int {
        if case .array(let slots) = slot.content { return slots.count }
        return 0
    }

    func encoder() -> ValueEncoder { ValueEncoder(slot: slot.appended(), codingPath: codingPath, key: JSONKey(intValue: count)) }

    mutating func encodeNil() { encoder().encodeNil() }
    mutating func encode<Value: Encodable>(_ value: Value) throws { try encoder().encode(value) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        encoder().container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { encoder().unkeyedContainer() }
    mutating func superEncoder() -> any Encoder { encoder() }
}
