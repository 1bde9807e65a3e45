import Foundation
public import SluiceCore
import SluiceIngest
import SluiceStore
import SluiceWire

/// The first records of an upload and the prompt the first one would get: what the new-job
/// form shows before anything is stored. It reads only as far as it needs, so a preview of
/// the head of a large file answers at once, and it stops at the first problem, which it
/// reports with its line exactly as the job would.
public struct JobPreview: Sendable {
    /// The columns of the records shown, in the order first seen.
    public var columns: [String]
    /// The records shown, each as its columns' values in ``columns`` order.
    public var rows: [[String]]
    /// What the first record's call would send; `nil` when no record could be read.
    public var request: ModelRequest?
    /// A problem met before ``rows`` was full, with the file and line it is on.
    public var problem: JobErrorEntry?

    /// Read on the heavy-work pool in `owner`'s share: opening a workbook unzips it and a PDF
    /// runs `pdftotext`, neither for the threads that serve requests.
    /// - Parameter sources: each file's local path and what the job would call it.
    public static func make(spec: JobSpec, sources: [(path: String, source: JobSource)], limit: Int = 5, owner: String) async throws
        -> JobPreview
    {
        try await BlockingWork.heavy.run(owner: owner) { reading(spec: spec, sources: sources, limit: limit) }
    }

    static func reading(spec: JobSpec, sources: [(path: String, source: JobSource)], limit: Int) -> JobPreview {
        var preview = JobPreview(columns: [], rows: [], request: nil, problem: nil)
        var records: [JSONObject] = []
        var files: ZipFiles?
        preview.problem = forEachRecord(spec: spec, sources: sources) { item, zip in
            records.append(item.input)
            files = zip
            return records.count < limit
        }
        for record in records {
            for key in record.keys where !preview.columns.contains(key) { preview.columns.append(key) }
        }
        preview.rows = records.map { record in
            preview.columns.map { column in
                switch record[column] {
                case nil, .null?: ""
                case .string(let text)?: text
                case let value?: JSONWriter.string(value)
                }
            }
        }
        if let first = records.first {
            do {
                preview.request = try ItemRequest.build(spec: spec, input: first, files: files?.sources(for: first, columns: spec.images))
            } catch {
                preview.problem = preview.problem ?? JobErrorEntry(message: "the first record's prompt cannot be built: \(error)")
            }
        }
        if records.isEmpty, preview.problem == nil { preview.problem = JobErrorEntry(message: "the input has no records") }
        return preview
    }

    /// Reads the sources' records as the job would, each item to `body` until it says stop —
    /// with the files its zip holds, for a zip upload; the first problem met, with its file and
    /// line, ends the reading and is returned.
    static func forEachRecord(
        spec: JobSpec, sources: [(path: String, source: JobSource)], _ body: (NewItem, ZipFiles?) -> Bool
    ) -> JobErrorEntry? {
        var builder = ItemBuilder(spec: spec)
        func problem(_ problem: InputProblem, _ source: JobSource) -> JobErrorEntry {
            JobErrorEntry(
                file: sources.count > 1 ? source.displayName : nil, line: problem.line, column: problem.column, message: problem.message)
        }
        for (path, source) in sources {
            do {
                let parser = try RecordParsers.open(path: path, name: source.displayName, format: source.format, options: spec.input)
                builder.files = (parser as? ZipTableParser)?.files
                if let header = parser.header, let found = builder.checkColumns(header) { return problem(found, source) }
                while let step = try parser.next() {
                    switch step {
                    case .record(let record):
                        switch builder.item(from: record) {
                        case .success(let item): if !body(item, builder.files) { return nil }
                        case .failure(let found): return problem(found, source)
                        }
                    case .problem(let found): return problem(found, source)
                    case .failedDocument(let message): return problem(InputProblem(message: message), source)
                    }
                }
            } catch {
                return problem(error, source)
            }
        }
        return nil
    }
}
