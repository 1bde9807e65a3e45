import Foundation

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
