import Foundation
import NIOPosix
import SluiceCore
import SluiceIngest
import SluiceStorage
import SluiceStore

/// What an ingest has read so far — items of the batch being filled, problems, the next index —
/// handed to a pool thread for each stretch of parsing and back, never used by two at once.
final class IngestReading: @unchecked Sendable {
    var builder: ItemBuilder
    var problems: [JobErrorEntry] = []
    private(set) var batch: [NewItem] = []
    /// Problems name their file when the job has several.
    let namesFiles: Bool

    /// Why a stretch of parsing stopped.
    enum Pause: Sendable {
        case batchFull, sourceEnded
        /// ``Job/maximumErrors`` problems are known: reading on would only find more.
        case enoughProblems
    }

    init(builder: ItemBuilder, namesFiles: Bool) {
        self.builder = builder
        self.namesFiles = namesFiles
    }

    func takeBatch() -> [NewItem] {
        defer { batch.removeAll(keepingCapacity: true) }
        return batch
    }

    func note(_ problem: InputProblem, in source: JobSource) {
        guard problems.count < Job.maximumErrors else { return }
        problems.append(entry(problem, in: source))
    }

    /// A problem as the job's error list shows it.
    func entry(_ problem: InputProblem, in source: JobSource) -> JobErrorEntry {
        JobErrorEntry(
            file: namesFiles ? source.displayName : nil, line: problem.line, column: problem.column,
            code: problem.code ?? (source.format.carriesRequests ? "invalid_json_line" : nil), message: problem.message)
    }

    /// Reads records into items until a batch is full, the source ends, or enough problems are
    /// known. Once the job is known to fail, it parses on only to report more problems. Works on
    /// local copies of the state, moved out and back: a class's stored properties would cost a
    /// dynamic exclusivity check on every record.
    /// The most text one batch of items carries: a transaction that writes it holds the
    /// database's writer (SQLite has one for every user) while it runs, so a batch of 10,000
    /// large records — a message batch's 6 KB requests — made every other user's upload wait
    /// behind a 60 MB insert.
    static let maxBatchBytes = 4 << 20

    func read(_ parser: any RecordParser, source: JobSource, batchSize: Int) -> Pause {
        var bytes = 0
        var batch = self.batch
        var builder = self.builder
        var problems = self.problems
        self.batch = []
        defer {
            self.batch = batch
            self.builder = builder
            self.problems = problems
        }
        func note(_ problem: InputProblem) {
            guard problems.count < Job.maximumErrors else { return }
            problems.append(entry(problem, in: source))
        }
        do {
            while let step = try parser.next() {
                switch step {
                case .record(let record):
                    switch builder.item(from: record) {
                    case .success(let item):
                        if problems.isEmpty {
                            bytes += item.input.textBytes
                            batch.append(item)
                        }
                    case .failure(let problem): note(problem)
                    }
                case .problem(let problem): note(problem)
                case .failedDocument(let message):
                    if problems.isEmpty { batch.append(builder.failedDocument(message, name: source.displayName)) }
                }
                if problems.count >= Job.maximumErrors { return .enoughProblems }
                if batch.count >= batchSize || bytes >= Self.maxBatchBytes { return .batchFull }
            }
        } catch {
            note(error)
        }
        return .sourceEnded
    }
}
