import Foundation
import SluiceCore
import SluiceSpreadsheet

/// An `.xlsx` sheet as records: its first row with any cell names the columns, and each row
/// after it is a record of the text its cells show (dates and numbers as displayed), numbered
/// by its row in the sheet. Streamed row by row (see ``XLSXSheetReader``).
public final class XLSXRecordParser: RecordParser {
    let reader: XLSXSheetReader
    /// The header row's names.
    private(set) var columns: [String] = []
    public var header: [String]? { columns }

    public init(path: String, sheet: String?) throws(InputProblem) {
        do {
            reader = try XLSXSheetReader(path: path, sheet: sheet)
        } catch {
            throw InputProblem(line: error.row, message: error.message)
        }
        let first: XLSXRow?
        do {
            first = try reader.nextRow()
        } catch {
            throw InputProblem(line: error.row, message: error.message)
        }
        guard let first else {
            throw InputProblem(line: 1, message: "sheet '\(reader.sheetName)' is empty: it needs a header row naming its columns")
        }
        var seen: Set<String> = []
        for (index, name) in first.cells.enumerated() {
            let column = XLSXColumn.name(index + 1)
            if name.trimmingCharacters(in: .whitespaces).isEmpty {
                throw InputProblem(line: first.number, message: "header column \(column) has no name")
            }
            guard seen.insert(name).inserted else {
                throw InputProblem(line: first.number, message: "header column \(column) repeats the name '\(name)'")
            }
        }
        if first.cells.allSatisfy({ Double($0) != nil }) {
            throw InputProblem(
                line: first.number,
                message: "the first row holds only numbers, so sheet '\(reader.sheetName)' seems to have no header row naming its columns")
        }
        columns = first.cells
    }

    public func next() throws(InputProblem) -> IngestStep? {
        let row: XLSXRow?
        do {
            row = try reader.nextRow()
        } catch {
            throw InputProblem(line: error.row, message: error.message)
        }
        guard let row else { return nil }
        if row.cells.count > columns.count, let extra = row.cells[columns.count...].firstIndex(where: { !$0.isEmpty }) {
            return .problem(
                InputProblem(line: row.number, message: "column \(XLSXColumn.name(extra + 1)) has a value but no name in the header row"))
        }
        var members: [(key: String, value: JSONValue)] = []
        members.reserveCapacity(columns.count)
        for (index, name) in columns.enumerated() {
            members.append((name, .string(index < row.cells.count ? row.cells[index] : "")))
        }
        return .record(IngestRecord(fields: JSONObject(members), line: row.number))
    }
}
