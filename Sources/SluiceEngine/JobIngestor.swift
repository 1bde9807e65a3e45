import Foundation
import SluiceCore
import SluiceIngest
import SluiceStore

/// Reads a `validating` job's files into items, or fails the job with line-numbered errors.
///
/// Items are stored in large batches while parsing goes on, but the job only becomes
/// claimable when every file parsed cleanly; on any problem the store removes what was
/// appended, so no item of a malformed upload ever reaches a model. Safe to run again on a job
/// whose previous ingest was interrupted: it starts over.
public struct JobIngestor: Sendable {
    let store: any JobStore
    let clock: any SluiceClock
    /// Items per store transaction: large enough to amortise the commit, small enough to bound memory.
    let batchSize: Int

    public init(store: any JobStore, clock: any SluiceClock = SystemClock(), batchSize: Int = 5_000) {
        self.store = store
        self.clock = clock
        self.batchSize = batchSize
    }

    /// Parses and stores every item of the job; returns the job as it ends (`queued` or `failed`).
    /// `progress` hears the number of items read so far, after each stored batch.
    public func ingest(jobID: String, progress: @Sendable (Int) -> Void = { _ in }) async throws -> Job {
        guard let job = try await store.job(id: jobID) else { throw StoreError.jobNotFound(jobID) }
        guard job.status == .validating else { return job }
        try await store.restartValidation(jobID: jobID)
        var builder = ItemBuilder(spec: job.spec)
        var problems: [JobErrorEntry] = []
        var batch: [NewItem] = []
        batch.reserveCapacity(batchSize)
        let nameFiles = job.sources.count > 1

        func note(_ problem: InputProblem, in source: JobSource) {
            if problems.count < Job.maximumErrors {
                problems.append(
                    JobErrorEntry(
                        file: nameFiles ? source.displayName : nil, line: problem.line, column: problem.column,
                        code: problem.code ?? (source.format == .openAIBatch ? "invalid_json_line" : nil),
                        message: problem.message))
            }
        }

        // One batch is stored while the next is parsed: parsing and SQLite each get a core.
        var storing: Task<Void, any Error>?
        func storeBatch(_ items: [NewItem]) async throws {
            try Task.checkCancellation()
            try await storing?.value
            let store = self.store
            storing = Task { try await store.appendItems(jobID: jobID, items: items) }
        }
        defer { storing?.cancel() }

        sources: for source in job.sources {
            do {
                let parser = try RecordParsers.open(path: source.path, format: source.format, options: job.spec.input)
                if let csv = parser as? CSVRecordParser, let problem = builder.checkColumns(csv.header) {
                    note(problem, in: source)
                    continue
                }
                while let step = try parser.next() {
                    switch step {
                    case .record(let record):
                        switch builder.item(from: record) {
                        case .success(let item):
                            // Once the job is known to fail, parse on only to report more problems.
                            guard problems.isEmpty else { continue }
                            batch.append(item)
                            if batch.count >= batchSize {
                                try await storeBatch(batch)
                                batch.removeAll(keepingCapacity: true)
                                progress(builder.nextIndex)
                            }
                        case .failure(let problem): note(problem, in: source)
                        }
                    case .problem(let problem): note(problem, in: source)
                    }
                    if problems.count >= Job.maximumErrors { break sources }
                }
            } catch let problem as InputProblem {
                note(problem, in: source)
            }
        }
        try await storing?.value
        if problems.isEmpty, !batch.isEmpty {
            try await store.appendItems(jobID: jobID, items: batch)
            progress(builder.nextIndex)
        }
        if problems.isEmpty, builder.nextIndex == 0 {
            problems.append(JobErrorEntry(message: "the input has no records"))
        }
        guard problems.isEmpty else {
            return try await store.failValidation(jobID: jobID, errors: problems, now: clock.now())
        }
        return try await store.finishValidation(jobID: jobID, now: clock.now())
    }
}
