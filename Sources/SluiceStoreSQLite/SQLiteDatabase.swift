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

/// One GRDB transaction seen through ``SQLTransaction``.
struct SQLiteTransaction: SQLTransaction {
    let db: Database

    /// Tells SQLite to copy bound text, since Swift's buffer does not outlive the call.
    static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Rows per multi-row `INSERT`: one statement step per row cost as much as the row itself.
    static let rowsPerInsert = 64

    func rows(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        let statement = try db.cachedStatement(sql: sql)
        let columns = SQLColumns(statement.columnNames)
        let cursor = try Row.fetchCursor(statement, arguments: StatementArguments(arguments.map(Self.databaseValue)))
        var rows: [SQLRow] = []
        while let row = try cursor.next() {
            rows.append(SQLRow(columns: columns, values: row.databaseValues.map(Self.value)))
        }
        return rows
    }

    @discardableResult
    func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
        try db.cachedStatement(sql: sql).execute(arguments: StatementArguments(arguments.map(Self.databaseValue)))
        return db.changesCount
    }

    /// Up to ``rowsPerInsert`` rows per statement, bound through the C API: in the hottest loop
    /// of ingest GRDB's argument boxing cost about as much as SQLite's own work.
    func insert(into table: String, columns: [String], rows: [[SQLValue]]) throws {
        let tuple = "(" + SQLList.marks(columns.count) + ")"
        let names = columns.joined(separator: ", ")
        var start = 0
        while start < rows.count {
            let count = min(Self.rowsPerInsert, rows.count - start)
            let values = Array(repeating: tuple, count: count).joined(separator: ", ")
            let statement = try db.cachedStatement(sql: "INSERT INTO \(table) (\(names)) VALUES \(values)")
            let handle = statement.sqliteStatement
            sqlite3_reset(handle)
            var parameter: Int32 = 1
            for row in rows[start..<start + count] {
                for value in row {
                    switch value {
                    case .null: sqlite3_bind_null(handle, parameter)
                    case .int(let number): sqlite3_bind_int64(handle, parameter, number)
                    case .double(let number): sqlite3_bind_double(handle, parameter, number)
                    case .text(let text): sqlite3_bind_text(handle, parameter, text, -1, Self.transient)
                    }
                    parameter += 1
                }
            }
            let code = sqlite3_step(handle)
            sqlite3_reset(handle)
            guard code == SQLITE_DONE else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
            }
            start += count
        }
    }

    func nextValue(of counter: String) throws -> Int64 {
        guard let row = try rows("UPDATE counters SET value = value + 1 WHERE name = ? RETURNING value", [.text(counter)]).first else {
            throw StoreError.corrupt("counter \(counter) is missing")
        }
        return try row.int64("value")
    }

    static func databaseValue(_ value: SQLValue) -> DatabaseValue {
        switch value {
        case .null: .null
        case .int(let number): number.databaseValue
        case .double(let number): number.databaseValue
        case .text(let text): text.databaseValue
        }
    }

    static func value(_ value: DatabaseValue) -> SQLValue {
        switch value.storage {
        case .null: .null
        case .int64(let number): .int(number)
        case .double(let number): .double(number)
        case .string(let text): .text(text)
        case .blob(let data): .text(String(decoding: data, as: UTF8.self))
        }
    }
}

extension SQLJobStore {
    /// A store on the SQLite file at `path`, created and migrated if needed.
    public static func sqlite(path: String) throws -> SQLJobStore {
        SQLJobStore(database: try SQLiteDatabase(path: path))
    }
}

/// Which file a path names: its device and inode.
struct FileIdentity: Equatable, Sendable {
    let device: UInt64
    let inode: UInt64

    init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }
}
