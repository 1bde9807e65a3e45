public import Foundation

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
