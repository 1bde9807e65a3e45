import Foundation

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

/// The column names of a result, shared by all its rows.
public final class SQLColumns: Sendable {
    public let names: [String]
    let positions: [String: Int]

    public init(_ names: [String]) {
        self.names = names
        positions = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
    }
}

/// One result row, read by column name. A missing column or a value of the wrong type is a
/// bug in the statement, reported as ``StoreError/corrupt(_:)`` naming the column.
public struct SQLRow: Sendable {
    public let columns: SQLColumns
    public let values: [SQLValue]

    public init(columns: SQLColumns, values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    public subscript(_ name: String) -> SQLValue {
        columns.positions[name].map { values[$0] } ?? .null
    }

    public func int(_ name: String) throws -> Int { Int(try int64(name)) }

    public func int64(_ name: String) throws -> Int64 {
        switch self[name] {
        case .int(let value): return value
        case .double(let value) where value == value.rounded(): return Int64(value)
        default: throw StoreError.corrupt("column \(name) is not an integer")
        }
    }

    public func optionalInt64(_ name: String) throws -> Int64? {
        if case .null = self[name] { return nil }
        return try int64(name)
    }

    public func double(_ name: String) throws -> Double {
        switch self[name] {
        case .double(let value): return value
        case .int(let value): return Double(value)
        default: throw StoreError.corrupt("column \(name) is not a number")
        }
    }

    public func text(_ name: String) throws -> String {
        guard case .text(let value) = self[name] else { throw StoreError.corrupt("column \(name) is not text") }
        return value
    }

    public func optionalText(_ name: String) throws -> String? {
        if case .null = self[name] { return nil }
        return try text(name)
    }

    public func optionalDouble(_ name: String) throws -> Double? {
        if case .null = self[name] { return nil }
        return try double(name)
    }

    public func date(_ name: String) throws -> Date { Date(timeIntervalSince1970: try double(name)) }

    public func optionalDate(_ name: String) throws -> Date? { try optionalDouble(name).map(Date.init(timeIntervalSince1970:)) }
}

/// One transaction of a ``SQLDatabase``. Statements use `?` placeholders; the PostgreSQL
/// driver numbers them.
///
/// Synchronous on purpose: SQLite runs a transaction on its writer's thread and cannot
/// suspend inside it, so the store's logic is written once against this and each driver runs
/// it where its database needs (GRDB's writer; a blocking thread holding a PostgreSQL
/// connection).
public protocol SQLTransaction {
    /// Runs a statement and returns its rows (a `RETURNING` clause's, for a change).
    func rows(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow]

    /// Runs a statement and returns how many rows it changed.
    @discardableResult
    func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int

    /// Inserts many rows at once, by the fastest path the database has.
    func insert(into table: String, columns: [String], rows: [[SQLValue]]) throws

    /// The next value of a named counter, never handed out twice, whichever process asks.
    func nextValue(of counter: String) throws -> Int64
}

extension SQLTransaction {
    public func row(_ sql: String, _ arguments: [SQLValue]) throws -> SQLRow? {
        try rows(sql, arguments).first
    }
}

/// A database the store can run on: SQLite for one machine, PostgreSQL for many.
public protocol SQLDatabase: Sendable {
    /// Runs `body` in one read-write transaction: all of it commits, or none of it.
    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLTransaction) throws -> T) async throws -> T

    /// Runs `body` for reading; it sees committed data only.
    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLTransaction) throws -> T) async throws -> T

    /// The locking clause that holds a selected row until commit (`FOR UPDATE`); empty where a
    /// writer already excludes every other.
    var lockClause: String { get }

    /// The locking clause that makes a claim skip rows another transaction holds
    /// (`FOR UPDATE OF alias SKIP LOCKED`); empty where a writer already excludes every other.
    func skipLocked(_ alias: String) -> String

    /// The SQL for the largest of `expressions` (`GREATEST(…)`, or SQLite's many-argument `MAX(…)`).
    func greatest(_ expressions: [String]) -> String

    /// The SQL for the database server's clock as seconds since 1970 (a `DOUBLE PRECISION`).
    var clockExpression: String { get }

    /// The names of migrations this process knows that the database has not applied.
    func pendingMigrations() async throws -> [String]
}

/// Runs a batch of `IN (?, …)` statements in slices a statement can bind.
public enum SQLList {
    public static let maximumLength = 500

    /// `?, ?, ?` for `count` values.
    public static func marks(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }

    /// The values in slices of at most ``maximumLength``.
    public static func slices<T>(_ values: [T]) -> [ArraySlice<T>] {
        stride(from: 0, to: values.count, by: maximumLength).map { values[$0..<min($0 + maximumLength, values.count)] }
    }
}
