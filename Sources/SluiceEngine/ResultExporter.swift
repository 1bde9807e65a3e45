public import Foundation
public import SluiceCore
import SluiceSpreadsheet
public import SluiceStore

/// Streams a job's results page by page, in input order, to any sink (a file, an HTTP body).
///
/// Works while the job runs: what is not finished yet is written with its current status, so
/// partial results are always a consistent snapshot per page.
public struct ResultExporter: Sendable {
    let store: any JobStore
    let pageSize: Int

    public init(store: any JobStore, pageSize: Int = 2_000) {
        self.store = store
        self.pageSize = pageSize
    }

    /// Writes every item as JSONL or CSV; `write` receives chunks of text of about one page each.
    /// A workbook is not text: see ``exportWorkbook(jobID:to:raw:)``. CSV text that a
    /// spreadsheet would run as a formula is neutralised unless `raw` (see
    /// ``ResultFormatter/neutralised(_:)``).
    public func export(jobID: String, format: ResultFormat, raw: Bool = false, write: (String) async throws -> Void) async throws {
        switch format {
        case .xlsx:
            preconditionFailure("a workbook is written by exportWorkbook(jobID:to:)")
        case .jsonl:
            try await store.forEachItemPage(jobID: jobID, pageSize: pageSize) { items in
                try await write(items.map(ResultFormatter.jsonLine).joined())
            }
        case .csv:
            var columns = ResultFormatter.CSVColumns()
            try await store.forEachItemPage(jobID: jobID, pageSize: pageSize) { items in
                for item in items { columns.add(item) }
            }
            try await write(columns.header(raw: raw))
            try await store.forEachItemPage(jobID: jobID, pageSize: pageSize) { items in
                try await write(items.map { ResultFormatter.csvRow($0, columns: columns, raw: raw) }.joined())
            }
        }
    }

    /// Writes every item to a new `.xlsx` file at `url`, with the CSV's columns; numbers and
    /// truth values stay typed, nested values are JSON text. Streamed page by page. Text is
    /// neutralised as in CSV unless `raw`: a workbook's cells are values, but a user who edits
    /// one (or saves the sheet as CSV) gets the formula back. Building the rows and zipping the
    /// file is CPU work of seconds for a large job: it runs on the heavy-work pool in `owner`'s
    /// share, never on the threads that answer requests.
    public func exportWorkbook(jobID: String, to url: URL, raw: Bool = false, owner: String = "") async throws {
        var columns = ResultFormatter.CSVColumns()
        try await store.forEachItemPage(jobID: jobID, pageSize: pageSize) { items in
            for item in items { columns.add(item) }
        }
        let header = columns.names.map { XLSXCell.text(raw ? $0 : ResultFormatter.neutralised($0)) }
        let writer = try await BlockingWork.heavy.run(owner: owner) {
            let writer = WorkbookInProgress(try XLSXWriter())
            try writer.writer.addRow(header)
            return writer
        }
        try await store.forEachItemPage(jobID: jobID, pageSize: pageSize) { [columns] items in
            try await BlockingWork.heavy.run(owner: owner) {
                for item in items {
                    try writer.writer.addRow(ResultFormatter.cells(item, columns: columns).map { Self.cell($0, raw: raw) })
                }
            }
        }
        try await BlockingWork.heavy.run(owner: owner) { try writer.writer.finish(to: url) }
    }

    static func cell(_ value: JSONValue, raw: Bool) -> XLSXCell {
        switch value {
        case .null: .empty
        case .bool(let flag): .bool(flag)
        case .int(let number): .number(Double(number))
        case .double(let number): .number(number)
        case .string(let text): text.isEmpty ? .empty : .text(raw ? text : ResultFormatter.neutralised(text))
        case .array, .object: .text(value.plainText)
        }
    }
}
