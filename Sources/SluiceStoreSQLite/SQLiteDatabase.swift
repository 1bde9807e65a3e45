import Foundation
import GRDB
import GRDBSQLite
import SluiceCore
public import SluiceStore

/// The embedded database: one SQLite file in WAL mode, shareable by several processes on one
/// machine.
///
/// Writes go through GRDB's writer in immediate transactions, so a read-then-write transaction
/// never deadlocks against another process; readers run concurrently from the pool. The
/// store's guarantees do not rest on that single writer: every change is guarded in its own
/// SQL, as on PostgreSQL.
public final class SQLiteDatabase: SQLDatabase {
    let pool: DatabasePool
    let path: String
    /// The file opened, as (device, inode): SQLite goes on working in a file removed under it,
    /// so only comparing with what the path names now tells that the data has gone nowhere.
    let file: FileIdentity?

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try SQLiteMigrations.migrator.migrate(pool)
        } catch let error as DatabaseError {
            throw Self.storeError(error)
        }
        file = FileIdentity(path: path)
    }

    public var lockClause: String { "" }

    /// Julian days to seconds since 1970, to the millisecond (`'now'` is the machine's clock).
    public var clockExpression: String { "(julianday('now') - 2440587.5) * 86400.0" }

    public func skipLocked(_ alias: String) -> String { "" }

    public func greatest(_ expressions: [String]) -> String { "MAX(\(expressions.joined(separator: ", ")))" }

    /// GRDB's immediate transaction. Beginning and committing by statements prepared once was
    /// tried (about 5% of a paced call's CPU, at the edge of the noise) and not kept: outside
    /// GRDB's transaction block, a statement run after SQLite rolled the transaction back on
    /// its own would commit by itself instead of failing.
    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLTransaction) throws -> T) async throws -> T {
        do {
            return try await pool.write { db in try body(SQLiteTransaction(db: db)) }
        } catch let error as DatabaseError {
            throw Self.storeError(error)
        }
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLTransaction) throws -> T) async throws -> T {
        do {
            return try await pool.read { db in try body(SQLiteTransaction(db: db)) }
        } catch let error as DatabaseError {
            throw Self.storeError(error)
        }
    }

    public func pendingMigrations() async throws -> [String] {
        if let file, FileIdentity(path: path) != file {
            throw StoreError.notReady("the database file \(path) was removed or replaced while open")
        }
        let applied = try await pool.read { db in try SQLiteMigrations.migrator.appliedIdentifiers(db) }
        return SQLiteMigrations.migrator.migrations.filter { !applied.contains($0) }
    }

    /// A busy or locked file is worth another try; a broken constraint is a conflict; anything
    /// else is a failure. The driver's text goes to the log only.
    static func storeError(_ error: DatabaseError) -> StoreError {
        let driver = DriverError(code: "SQLITE_\(error.resultCode.rawValue)", description: "\(error)")
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED: return .retryable(driver)
        case .SQLITE_CONSTRAINT: return .conflict("the change contradicts what is stored", driver)
        default: return .failed(driver)
        }
    }
}

extension SQLJobStore {
    /// A store on the SQLite file at `path`, created and migrated if needed.
    public static func sqlite(path: String) throws -> SQLJobStore {
        SQLJobStore(database: try SQLiteDatabase(path: path))
    }
}
