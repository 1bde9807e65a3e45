import Foundation

/// The results contract: how an item is written as a JSONL line or a CSV row.
public enum ResultFormat: String, Sendable, CaseIterable {
    case csv
    case jsonl
    /// An Excel workbook with the CSV's columns (see ``ResultFormatter/cells(_:columns:)``).
    case xlsx

    /// The format an output file name implies (`.csv`, `.jsonl`/`.ndjson`, `.xlsx`).
    public init?(fileName: String) {
        let lower = fileName.lowercased()
        if lower.hasSuffix(".csv") {
            self = .csv
        } else if lower.hasSuffix(".xlsx") {
            self = .xlsx
        } else if lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson") {
            self = .jsonl
        } else {
            return nil
        }
    }
}

/// Formats results. JSONL lines stand alone; CSV needs the columns of every item first
/// (``CSVColumns``), since JSON inputs and outputs may differ in their fields.
public enum ResultFormatter {
    /// `{"index", "status", "input", "output", "error", "usage", "model"}` and a newline.
    public static func jsonLine(_ item: Item) -> String {
        var object = JSONObject()
        object["index"] = .int(item.index)
        object["status"] = .string(item.status.rawValue)
        object["input"] = .object(item.input)
        object["output"] = item.output ?? .null
        object["error"] = item.status == .succeeded ? .null : item.error.map(JSONValue.string) ?? .null
        object["usage"] = item.usage.json
        object["model"] = item.model.map(JSONValue.string) ?? .null
        object["cached"] = .bool(item.cached)
        return JSONWriter.string(.object(object)) + "\n"
    }

    /// The CSV columns: input fields in first-seen order, then top-level output fields, then
    /// Sluice's own, prefixed so they never clash with a user's column.
    public struct CSVColumns: Sendable, Equatable {
        public private(set) var input: [String] = []
        public private(set) var output: [String] = []
        private var seenInput: Set<String> = []
        private var seenOutput: Set<String> = []

        public static let sluiceColumns = ["sluice_status", "sluice_error", "sluice_model"]
        /// The column for an output that is not an object (free text).
        public static let plainOutputColumn = "output"

        public init() {}

        public mutating func add(_ item: Item) {
            for key in item.input.keys where seenInput.insert(key).inserted { input.append(key) }
            switch item.output {
            case .object(let object)?:
                for key in object.keys where seenOutput.insert(key).inserted { output.append(key) }
            case nil: break
            case .some:
                if seenOutput.insert(Self.plainOutputColumn).inserted { output.append(Self.plainOutputColumn) }
            }
        }

        /// Every column's name, in order.
        public var names: [String] { input + output + Self.sluiceColumns }

        public var header: String {
            ResultFormatter.csvLine(names)
        }
    }

    /// An item's row of values under `columns` (`null` where it has none): what a CSV line
    /// shows as text and a workbook row keeps typed.
    public static func cells(_ item: Item, columns: CSVColumns) -> [JSONValue] {
        var cells: [JSONValue] = []
        cells.reserveCapacity(columns.input.count + columns.output.count + 3)
        for key in columns.input { cells.append(item.input[key] ?? .null) }
        for key in columns.output {
            switch item.output {
            case .object(let object)?: cells.append(object[key] ?? .null)
            case let value? where key == CSVColumns.plainOutputColumn: cells.append(value)
            default: cells.append(.null)
            }
        }
        cells.append(.string(item.status.rawValue))
        cells.append(item.status == .succeeded ? .null : item.error.map(JSONValue.string) ?? .null)
        cells.append(item.model.map(JSONValue.string) ?? .null)
        return cells
    }

    public static func csvRow(_ item: Item, columns: CSVColumns) -> String {
        csvLine(cells(item, columns: columns).map { $0 == .null ? "" : $0.plainText })
    }

    /// One RFC 4180 line, quoting only the cells that need it.
    public static func csvLine(_ cells: [String]) -> String {
        var line = ""
        for (index, cell) in cells.enumerated() {
            if index > 0 { line += "," }
            if cell.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) {
                line += "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            } else {
                line += cell
            }
        }
        return line + "\r\n"
    }
}
