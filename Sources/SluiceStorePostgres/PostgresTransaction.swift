import Foundation
import Logging
import NIOCore
import PostgresNIO
import SluiceStore
import Synchronization

/// One connection seen through ``SQLTransaction``, used from a transaction thread: each
/// statement waits for its answer there.
struct PostgresTransaction: SQLTransaction {
    let connection: PostgresConnection
    let logger: Logger

    func rows(_ sql: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        let result = try connection.query(Self.query(sql, arguments), logger: logger).wait()
        guard let first = result.rows.first else { return [] }
        let columns = SQLColumns(first.map(\.columnName))
        return try result.rows.map { row in SQLRow(columns: columns, values: try row.map(Self.value)) }
    }

    @discardableResult
    func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
        try connection.query(Self.query(sql, arguments), logger: logger).wait().metadata.rows ?? 0
    }

    /// `COPY … FROM STDIN` in text format: the fastest way into PostgreSQL, part of the open
    /// transaction. The copy API is asynchronous only, so this thread waits for its future.
    func insert(into table: String, columns: [String], rows: [[SQLValue]]) throws {
        guard !rows.isEmpty else { return }
        var buffer = ByteBuffer()
        for row in rows {
            for (position, value) in row.enumerated() {
                if position > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
                Self.writeCopyText(value, to: &buffer)
            }
            buffer.writeInteger(UInt8(ascii: "\n"))
        }
        let names = columns
        let data = buffer
        // Waited for as every statement is: a future of the connection's event loop, on this
        // transaction's own thread.
        let copied = connection.eventLoop.makePromise(of: Void.self)
        copied.completeWithTask { [connection, logger] in
            try await connection.copyFrom(table: table, columns: names, logger: logger) { writer in try await writer.write(data) }
        }
        try copied.futureResult.wait()
    }

    func nextValue(of counter: String) throws -> Int64 {
        guard let row = try rows("SELECT nextval(CAST(? AS regclass)) AS value", [.text(counter)]).first else {
            throw StoreError.corrupt("sequence \(counter) answered nothing")
        }
        return try row.int64("value")
    }

    // MARK: - Statements and values

    /// The statements' texts with `?` numbered `$1, $2, …`, made once per text.
    static let numbered = Mutex<[String: String]>([:])

    static func query(_ sql: String, _ arguments: [SQLValue]) -> PostgresQuery {
        let text =
            numbered.withLock { $0[sql] }
            ?? {
                var result = ""
                result.reserveCapacity(sql.utf8.count + 16)
                var number = 0
                for character in sql {
                    if character == "?" {
                        number += 1
                        result += "$\(number)"
                    } else {
                        result.append(character)
                    }
                }
                numbered.withLock { $0[sql] = result }
                return result
            }()
        var bindings = PostgresBindings(capacity: arguments.count)
        for argument in arguments {
            switch argument {
            case .null: bindings.appendNull()
            case .int(let number): bindings.append(number)
            case .double(let number): bindings.append(number)
            case .text(let string): bindings.append(string)
            }
        }
        return PostgresQuery(unsafeSQL: text, binds: bindings)
    }

    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .int(try cell.decode(Int64.self))
        case .float4, .float8: return .double(try cell.decode(Double.self))
        case .numeric: return .double(Double(try cell.decode(Decimal.self).description) ?? .nan)
        case .bool: return .int(try cell.decode(Bool.self) ? 1 : 0)
        default: return .text(try cell.decode(String.self))
        }
    }

    /// A value as COPY's text format spells it: `\N` for NULL, and backslash, tab, newline and
    /// carriage return escaped.
    static func writeCopyText(_ value: SQLValue, to buffer: inout ByteBuffer) {
        switch value {
        case .null: buffer.writeStaticString("\\N")
        case .int(let number): buffer.writeString(String(number))
        case .double(let number): buffer.writeString("\(number)")
        case .text(let text) where !text.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 < 0x20 }):
            buffer.writeString(text)
        case .text(let text):
            for byte in text.utf8 {
                switch byte {
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case UInt8(ascii: "\t"): buffer.writeStaticString("\\t")
                case UInt8(ascii: "\n"): buffer.writeStaticString("\\n")
                case UInt8(ascii: "\r"): buffer.writeStaticString("\\r")
                default: buffer.writeInteger(byte)
                }
            }
        }
    }

    /// SQLSTATE classes worth another try (serialization failure, deadlock, lock not
    /// available, connection trouble, shutdown); integrity violations are conflicts.
    static let retryableStates: Set<String> = ["40001", "40P01", "55P03", "57P01", "57P02", "57P03", "53300"]

    static func storeError(_ error: PSQLError) -> StoreError {
        let state = error.serverInfo?[.sqlState]
        let driver = DriverError(code: state ?? "\(error.code)", description: String(reflecting: error))
        switch state {
        case let state? where retryableStates.contains(state) || state.hasPrefix("08"): return .retryable(driver)
        case let state? where state.hasPrefix("23"): return .conflict("the change contradicts what is stored", driver)
        case nil where [.connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed].contains(error.code):
            return .retryable(driver)
        default: return .failed(driver)
        }
    }
}
