import Foundation
import GRDB
import GRDBSQLite
import SluiceCore
import SluiceStore

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
