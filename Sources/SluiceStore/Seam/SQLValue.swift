public import Foundation

/// A value bound to or read from a statement: the four types both drivers store.
///
/// Times are seconds since 1970 as `double`, JSON is `text` and flags are `int`, so a column
/// means the same on SQLite and PostgreSQL and one SQL text serves both.
public enum SQLValue: Sendable, Hashable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)

    public init(_ value: Int) { self = .int(Int64(value)) }
    public init(_ value: Int64) { self = .int(value) }
    public init(_ value: Int?) { self = value.map { .int(Int64($0)) } ?? .null }
    public init(_ value: Int64?) { self = value.map(SQLValue.int) ?? .null }
    public init(_ value: Double?) { self = value.map(SQLValue.double) ?? .null }
    public init(_ value: Bool) { self = .int(value ? 1 : 0) }
    public init(_ value: String?) { self = value.map(SQLValue.text) ?? .null }
    public init(_ value: Date?) { self = value.map { .double($0.timeIntervalSince1970) } ?? .null }
}
