import SluiceCore
import SluiceStore

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

    /// Writes every item; `write` receives chunks of text of about one page each.
    public func export(jobID: String, format: ResultFormat, write: (String) async throws -> Void) async throws {
        switch format {
        case .jsonl:
            try await forEachPage(jobID: jobID) { items in
                try await write(items.map(ResultFormatter.jsonLine).joined())
            }
        case .csv:
            var columns = ResultFormatter.CSVColumns()
            try await forEachPage(jobID: jobID) { items in
                for item in items { columns.add(item) }
            }
            try await write(columns.header)
            try await forEachPage(jobID: jobID) { items in
                try await write(items.map { ResultFormatter.csvRow($0, columns: columns) }.joined())
            }
        }
    }

    func forEachPage(jobID: String, _ body: ([Item]) async throws -> Void) async throws {
        var after = -1
        while true {
            let page = try await store.items(jobID: jobID, status: nil, afterIndex: after, limit: pageSize)
            guard let last = page.last else { return }
            try await body(page)
            after = last.index
        }
    }
}
