import Foundation

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
    ///
    /// At most ``maxColumns`` input and as many output fields become columns: rows whose fields
    /// all differ would otherwise make a table of rows × rows cells (a 215 KB upload, a 15 s
    /// workbook). Fields beyond them go, as one JSON object per row, in `sluice_extra`.
    public struct CSVColumns: Sendable, Equatable {
        public private(set) var input: [String] = []
        public private(set) var output: [String] = []
        private var inputPosition: [String: Int] = [:]
        private var outputPosition: [String: Int] = [:]
        /// Some row has a field beyond the columns: the `sluice_extra` column is written.
        public private(set) var overflows = false
        let maxColumns: Int

        public static let sluiceColumns = ["sluice_status", "sluice_error", "sluice_model"]
        /// Fields past the column limit, as `{"input": {…}, "output": {…}}`.
        public static let extraColumn = "sluice_extra"
        /// The column for an output that is not an object (free text).
        public static let plainOutputColumn = "output"
        public static let defaultMaxColumns = 500

        public init(maxColumns: Int = Self.defaultMaxColumns) {
            self.maxColumns = maxColumns
        }

        public mutating func add(_ item: Item) {
            for key in item.input.keys { Self.place(key, in: &input, positions: &inputPosition, limit: maxColumns, overflows: &overflows) }
            switch item.output {
            case .object(let object)?:
                for key in object.keys {
                    Self.place(key, in: &output, positions: &outputPosition, limit: maxColumns, overflows: &overflows)
                }
            case nil: break
            case .some:
                Self.place(Self.plainOutputColumn, in: &output, positions: &outputPosition, limit: maxColumns, overflows: &overflows)
            }
        }

        static func place(_ key: String, in names: inout [String], positions: inout [String: Int], limit: Int, overflows: inout Bool) {
            guard positions[key] == nil else { return }
            guard names.count < limit else {
                overflows = true
                return
            }
            positions[key] = names.count
            names.append(key)
        }

        /// Every column's name, in order.
        public var names: [String] { input + output + Self.sluiceColumns + (overflows ? [Self.extraColumn] : []) }

        /// The header line; column names are ``ResultFormatter/neutralised(_:)`` unless `raw`.
        public func header(raw: Bool = false) -> String {
            ResultFormatter.csvLine(raw ? names : names.map(ResultFormatter.neutralised))
        }

        /// An item's row of values (`null` where it has none), in one pass over its fields.
        func cells(_ item: Item) -> [JSONValue] {
            var cells = [JSONValue](repeating: .null, count: input.count + output.count)
            var filled = [Bool](repeating: false, count: cells.count)
            var extraInput = JSONObject()
            var extraOutput = JSONObject()
            for (key, value) in item.input {
                if let position = inputPosition[key] {
                    if !filled[position] { (cells[position], filled[position]) = (value, true) }
                } else if extraInput[key] == nil {
                    extraInput[key] = value
                }
            }
            switch item.output {
            case .object(let object)?:
                for (key, value) in object {
                    if let position = outputPosition[key].map({ input.count + $0 }) {
                        if !filled[position] { (cells[position], filled[position]) = (value, true) }
                    } else if extraOutput[key] == nil {
                        extraOutput[key] = value
                    }
                }
            case nil: break
            case let value?:
                if let position = outputPosition[Self.plainOutputColumn] {
                    cells[input.count + position] = value
                } else {
                    extraOutput[Self.plainOutputColumn] = value
                }
            }
            cells.append(.string(item.status.rawValue))
            cells.append(item.status == .succeeded ? .null : item.error.map(JSONValue.string) ?? .null)
            cells.append(item.model.map(JSONValue.string) ?? .null)
            if overflows {
                var extra = JSONObject()
                if !extraInput.isEmpty { extra["input"] = .object(extraInput) }
                if !extraOutput.isEmpty { extra["output"] = .object(extraOutput) }
                cells.append(extra.isEmpty ? .null : .object(extra))
            }
            return cells
        }
    }

    /// An item's row of values under `columns` (`null` where it has none): what a CSV line
    /// shows as text and a workbook row keeps typed.
    public static func cells(_ item: Item, columns: CSVColumns) -> [JSONValue] {
        columns.cells(item)
    }

    /// A text cell as a spreadsheet will not run it: one that starts with `=`, `+`, `-`, `@`, a
    /// tab or a carriage return is a formula to Excel, LibreOffice and Google Sheets (a row's
    /// text could then fetch URLs or run commands when the export is opened), so it gets a
    /// leading `'`, as OWASP's CSV-injection advice says. Exports take `raw` to opt out.
    public static func neutralised(_ text: String) -> String {
        guard let first = text.utf8.first, [0x3D, 0x2B, 0x2D, 0x40, 0x09, 0x0D].contains(first) else { return text }
        return "'" + text
    }

    /// An item's CSV line; text cells are ``neutralised(_:)`` unless `raw`.
    public static func csvRow(_ item: Item, columns: CSVColumns, raw: Bool = false) -> String {
        csvLine(
            cells(item, columns: columns).map { cell in
                switch cell {
                case .null: ""
                case .string(let text): raw ? text : neutralised(text)
                default: cell.plainText
                }
            })
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
