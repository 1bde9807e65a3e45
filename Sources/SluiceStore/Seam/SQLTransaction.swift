import Foundation

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
