public import Foundation
public import SluiceCore

/// The job store, written once for every SQL database: SQLite on one machine, PostgreSQL for
/// many processes on many machines.
///
/// Every change is guarded in the statement that makes it: the status (and the lease owner)
/// it may start from is in the `WHERE`, and `RETURNING` says whether it happened, so two
/// processes racing for one transition cannot both win — whatever the database's locking.
/// Transactions that touch a job and its items lock the job first (in `seq` order when there
/// are several), then its items: one order everywhere, so PostgreSQL never finds a deadlock.
public final class SQLJobStore: JobStore, SQLStore {
    let context: StoreContext
    public var database: any SQLDatabase { context.database }
    public var commits: WakeSignal { context.commits }
    public var newWork: WakeSignal { context.newWork }
    /// The small stores beside the queue, over the same database and signals.
    public let files: SQLFileStore
    public let keys: SQLKeyStore
    public let webhooks: SQLWebhookStore
    public let uploads: SQLUploadStore
    public let idempotency: SQLIdempotencyStore
    public let pace: SQLPaceStore
    public let usage: SQLUsageStore
    public let readings: SQLProviderReadingStore
    /// The specs of jobs claimed lately, parsed once.
    let specs = ParsedSpecs()

    public init(database: any SQLDatabase) {
        let context = StoreContext(database: database, commits: WakeSignal(), newWork: WakeSignal())
        self.context = context
        files = SQLFileStore(context: context)
        keys = SQLKeyStore(context: context)
        webhooks = SQLWebhookStore(context: context)
        uploads = SQLUploadStore(context: context)
        idempotency = SQLIdempotencyStore(context: context)
        pace = SQLPaceStore(context: context)
        usage = SQLUsageStore(context: context)
        readings = SQLProviderReadingStore(context: context)
    }

    // MARK: - Validation

    public func createJob(_ new: NewJob, now: Date) async throws -> Job {
        let arguments: [SQLValue] = [
            .text(new.id), .text(new.owner), .text(new.name), .text(StoreRows.text(new.spec.json)), .text(StoreRows.text(new.sources)),
            SQLValue(new.fingerprint), SQLValue(new.spec.batchSize), SQLValue(new.spec.maxAttempts), SQLValue(now),
            SQLValue(new.batch.map { StoreRows.text($0.json) }),
            SQLValue(new.expiresAt ?? new.spec.deadlineSeconds.map { now.addingTimeInterval($0) }), SQLValue(new.spec.itemsPerRequest),
            SQLValue(new.spec.budget?.tokens), SQLValue(new.spec.budget?.costMicros), SQLValue(new.spec.failureBrake?.window),
            SQLValue(new.spec.failureBrake?.rate), SQLValue(new.spec.reduce?.maxChars), SQLValue(new.inputBytes),
            SQLValue(new.spec.provider == JobSpec.routedProvider ? nil : new.spec.provider), SQLValue(new.spec.maxReplyTokens),
            SQLValue(Self.batchUntil(new.spec, createdAt: now)), SQLValue(new.spec.priority.rank), SQLValue(new.keyID),
            SQLValue(StoreRows.text(traceContext: new.traceContext)),
        ]
        return try await write { tx in
            guard
                let row = try tx.row(
                    """
                    INSERT INTO jobs (
                        id, owner, name, status, spec, sources, fingerprint, batch_size, max_attempts, created_at, batch, expires_at,
                        items_per_request, budget_tokens, budget_cost_micros, brake_window, brake_rate, reduce_chars, input_bytes, provider,
                        reply_token_cap, batch_until, priority, key_id, trace_context
                    ) VALUES (?, ?, ?, \(JobStatus.validating.sql), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING \(StoreRows.jobColumns)
                    """, arguments)
            else { throw StoreError.corrupt("job \(new.id) was not stored") }
            return try StoreRows.job(row, errors: [])
        }
    }

    public func leaseIngest(owner: String, leaseDuration: Double, now: Date) async throws -> Job? {
        let skipLocked = database.skipLocked("candidate")
        return try await write(wakingIf: { $0 != nil }) { tx in
            let unowned = "status = \(JobStatus.validating.sql) AND (ingest_owner IS NULL OR ingest_expires_at < ?)"
            guard
                let row = try tx.row(
                    """
                    UPDATE jobs SET ingest_owner = ?, ingest_expires_at = ?
                    WHERE seq = (SELECT candidate.seq FROM jobs AS candidate WHERE candidate.\(unowned)
                                 ORDER BY (SELECT COUNT(*) FROM jobs AS reading WHERE reading.owner = candidate.owner
                                           AND reading.status = \(JobStatus.validating.sql) AND reading.ingest_expires_at >= ?),
                                          candidate.seq
                                 LIMIT 1 \(skipLocked))
                    AND \(unowned) RETURNING \(StoreRows.jobColumns)
                    """,
                    [.text(owner), SQLValue(now + leaseDuration), SQLValue(now), SQLValue(now), SQLValue(now)])
            else { return nil }
            return try StoreRows.job(row, errors: [])
        }
    }

    public func takeIngest(jobID: String, owner: String, leaseDuration: Double, now: Date) async throws -> Job {
        try await write { tx in
            guard
                let row = try tx.row(
                    """
                    UPDATE jobs SET ingest_owner = ?, ingest_expires_at = ? WHERE id = ? AND status = \(JobStatus.validating.sql)
                    RETURNING \(StoreRows.jobColumns)
                    """, [.text(owner), SQLValue(now + leaseDuration), .text(jobID)])
            else { throw try Self.refusal(tx, jobID: jobID, action: .appendItems) }
            return try StoreRows.job(row, errors: [])
        }
    }

    public func extendIngest(jobID: String, owner: String, until: Date) async throws -> Bool {
        try await write { tx in
            try tx.execute(
                "UPDATE jobs SET ingest_expires_at = ? WHERE id = ? AND status = \(JobStatus.validating.sql) AND ingest_owner = ?",
                [SQLValue(until), .text(jobID), .text(owner)]) > 0
        }
    }

    /// The columns of `items` an ingest writes.
    static let newItemColumns = ["job_seq", "idx", "group_key", "status", "input", "error"]

    public func appendItems(jobID: String, owner: String, items: [NewItem]) async throws {
        // Encoded before the transaction, so the writer spends its time in the database.
        let inputs = items.map { SQLValue.text(StoreRows.text(.object($0.input))) }
        let failed = items.filter { $0.failure != nil }
        try await write { tx in
            let seq = try Self.guardIngest(
                tx, jobID: jobID, owner: owner, action: .appendItems, set: "total = total + ?, pending = pending + ?, failed = failed + ?",
                [SQLValue(items.count), SQLValue(items.count - failed.count), SQLValue(failed.count)])
            let job = SQLValue.int(seq)
            let rows = zip(items, inputs).map { item, input in
                [
                    job, SQLValue(item.index), SQLValue(item.groupKey),
                    SQLValue.text(item.failure == nil ? ItemStatus.pending.rawValue : ItemStatus.failed.rawValue), input,
                    SQLValue(item.failure),
                ]
            }
            try tx.insert(into: "items", columns: Self.newItemColumns, rows: rows)
            try Self.appendErrors(tx, seq: seq, failed.map { JobErrorEntry(item: $0.index, message: $0.failure!) })
        }
    }

    public func finishValidation(jobID: String, owner: String, now: Date) async throws -> Job {
        let greatest = database.greatest(["owners.served_seq", "excluded.served_seq"])
        return try await write { tx in
            // A job with a reduce step begins its map; any other leaves extracting behind.
            let seq = try Self.guardIngest(
                tx, jobID: jobID, owner: owner, action: .finishValidation,
                set:
                    "status = \(JobStatus.queued.sql), stage = CASE WHEN reduce_chars IS NULL THEN NULL ELSE 'mapping' END, stage_message = NULL",
                [])
            try Self.joinFairShare(tx, seq: seq, greatest: greatest)
            try Self.finalizeIfDone(tx, seq: seq, now: now)
            return try Self.fetchJob(tx, id: jobID)
        }
    }

    public func failValidation(jobID: String, owner: String, errors: [JobErrorEntry], now: Date) async throws -> Job {
        try await write { tx in
            let seq = try Self.guardIngest(
                tx, jobID: jobID, owner: owner, action: .failValidation,
                set:
                    "status = \(JobStatus.failed.sql), status_reason = 'the input is invalid', total = 0, pending = 0, failed = 0, error_count = 0, finished_at = ?",
                [SQLValue(now)])
            try tx.execute("DELETE FROM items WHERE job_seq = ?", [.int(seq)])
            try tx.execute("DELETE FROM job_errors WHERE job_seq = ?", [.int(seq)])
            try Self.appendErrors(tx, seq: seq, errors)
            return try Self.fetchJob(tx, id: jobID)
        }
    }

    public func restartValidation(jobID: String, owner: String) async throws {
        try await write { tx in
            let seq = try Self.guardIngest(
                tx, jobID: jobID, owner: owner, action: .restartValidation, set: "total = 0, pending = 0, failed = 0, error_count = 0", [])
            try tx.execute("DELETE FROM items WHERE job_seq = ?", [.int(seq)])
            try tx.execute("DELETE FROM job_errors WHERE job_seq = ?", [.int(seq)])
        }
    }

    /// Changes a validating job whose ingest `owner` holds, locking its row; the actions that end
    /// validation also end the lease. Returns the job's `seq`, or throws why not.
    static func guardIngest(
        _ tx: any SQLTransaction, jobID: String, owner: String, action: JobAction, set: String, _ arguments: [SQLValue]
    ) throws -> Int64 {
        let endsLease = [.finishValidation, .failValidation].contains(action) ? ", ingest_owner = NULL, ingest_expires_at = NULL" : ""
        guard
            let row = try tx.row(
                "UPDATE jobs SET \(set)\(endsLease) WHERE id = ? AND status = \(JobStatus.validating.sql) AND ingest_owner = ? RETURNING seq",
                arguments + [.text(jobID), .text(owner)])
        else { throw try refusal(tx, jobID: jobID, action: action) }
        return try row.int64("seq")
    }

    // MARK: - Reading

    public func job(id: String) async throws -> Job? {
        try await read { tx in try Self.fetchJobs(tx, where: "id = ?", [.text(id)]).first }
    }

    public func job(fingerprint: String) async throws -> Job? {
        try await read { tx in
            try Self.fetchJobs(tx, where: "fingerprint = ? ORDER BY seq DESC LIMIT 1", [.text(fingerprint)]).first
        }
    }

    public func items(jobID: String, status: ItemStatus?, afterIndex: Int, limit: Int) async throws -> [Item] {
        try await read { tx in
            let seq = try Self.locate(tx, jobID: jobID).seq
            let filter = status == nil ? "" : "AND status = ?"
            let arguments =
                [SQLValue.int(seq), SQLValue(afterIndex)] + (status.map { [SQLValue.text($0.rawValue)] } ?? []) + [SQLValue(limit)]
            return try tx.rows(
                "SELECT \(StoreRows.itemColumns) FROM items WHERE job_seq = ? AND idx > ? \(filter) ORDER BY idx LIMIT ?", arguments
            ).map { try StoreRows.item($0, jobID: jobID) }
        }
    }

    public func groupHistory(jobID: String, groupKey: String, beforeIndex: Int) async throws -> [Item] {
        try await read { tx in
            let seq = try Self.locate(tx, jobID: jobID).seq
            return try tx.rows(
                """
                SELECT \(StoreRows.itemColumns) FROM items
                WHERE job_seq = ? AND group_key = ? AND idx < ? AND status = \(ItemStatus.succeeded.sql) ORDER BY idx
                """, [.int(seq), .text(groupKey), SQLValue(beforeIndex)]
            ).map { try StoreRows.item($0, jobID: jobID) }
        }
    }

    public func setStage(jobID: String, stage: JobStage?, message: String?) async throws {
        let open = JobStatus.allCases.filter { !$0.isFinal }
        try await write { tx in
            try tx.execute(
                "UPDATE jobs SET stage = ?, stage_message = ? WHERE id = ? AND status IN (\(open.sqlList))",
                [SQLValue(stage?.rawValue), SQLValue(message), .text(jobID)])
        }
    }

    public func result(jobID: String) async throws -> JSONValue? {
        try await read { tx in
            let seq = try Self.locate(tx, jobID: jobID).seq
            let last = try tx.rows(
                """
                SELECT status, output FROM items WHERE job_seq = ? AND round > 0
                AND round = (SELECT MAX(round) FROM items WHERE job_seq = ?) LIMIT 2
                """, [.int(seq), .int(seq)])
            guard last.count == 1, try last[0].text("status") == ItemStatus.succeeded.rawValue,
                let text = try last[0].optionalText("output")
            else { return nil }
            guard let output = try? JSONParser.parse(text) else { throw StoreError.corrupt("result of job \(jobID)") }
            return output
        }
    }

    public func cachedOutputs(keys: [String], notBefore: Date) async throws -> [String: CachedOutput] {
        guard !keys.isEmpty else { return [:] }
        return try await read { tx in
            var found: [String: CachedOutput] = [:]
            for slice in SQLList.slices(keys) {
                for row in try tx.rows(
                    "SELECT key, output, model FROM result_cache WHERE key IN (\(SQLList.marks(slice.count))) AND created_at >= ?",
                    slice.map(SQLValue.text) + [SQLValue(notBefore)])
                {
                    let key = try row.text("key")
                    guard let output = try? JSONParser.parse(try row.text("output")) else {
                        throw StoreError.corrupt("cached output \(key)")
                    }
                    found[key] = CachedOutput(output: output, model: try row.optionalText("model"))
                }
            }
            return found
        }
    }

    public func databaseTime() async throws -> Date {
        let expression = database.clockExpression
        return try await read { tx in
            guard let row = try tx.row("SELECT CAST(\(expression) AS DOUBLE PRECISION) AS now", []) else {
                throw StoreError.corrupt("the database did not tell its time")
            }
            return try row.date("now")
        }
    }

    public func storedBytes(owner: String) async throws -> Int {
        try await read { tx in
            let row = try tx.row(
                """
                SELECT (SELECT COALESCE(SUM(input_bytes), 0) FROM jobs WHERE owner = ?)
                     + (SELECT COALESCE(SUM(bytes), 0) FROM files WHERE owner = ?)
                     + (SELECT COALESCE(SUM(upload_parts.bytes), 0) FROM upload_parts JOIN uploads ON uploads.id = upload_parts.upload_id
                        WHERE uploads.owner = ? AND uploads.status = \(StoredUpload.Status.pending.sql)) AS total
                """, [.text(owner), .text(owner), .text(owner)])
            return try row?.int("total") ?? 0
        }
    }

    public func outputSize(jobID: String, kind: String, etag: String) async throws -> Int? {
        try await read { tx in
            try tx.row(
                "SELECT bytes FROM output_sizes WHERE job_id = ? AND kind = ? AND etag = ?", [.text(jobID), .text(kind), .text(etag)]
            )?.int("bytes")
        }
    }

    public func setOutputSize(jobID: String, kind: String, etag: String, bytes: Int) async throws {
        try await write(wakes: false) { tx in
            // A job deleted meanwhile has nothing to keep a size for.
            _ = try tx.execute(
                """
                INSERT INTO output_sizes (job_id, kind, etag, bytes) SELECT id, ?, ?, ? FROM jobs WHERE id = ?
                ON CONFLICT (job_id, kind) DO UPDATE SET etag = excluded.etag, bytes = excluded.bytes
                """, [.text(kind), .text(etag), SQLValue(bytes), .text(jobID)])
        }
    }

    public func removeCacheEntries(before cutoff: Date) async throws -> Int {
        try await write(wakes: false) { tx in try tx.execute("DELETE FROM result_cache WHERE created_at < ?", [SQLValue(cutoff)]) }
    }

    public func statuses(jobIDs: [String]) async throws -> [String: JobStatus] {
        guard !jobIDs.isEmpty else { return [:] }
        return try await read { tx in
            var result: [String: JobStatus] = [:]
            for slice in SQLList.slices(jobIDs) {
                for row in try tx.rows("SELECT id, status FROM jobs WHERE id IN (\(SQLList.marks(slice.count)))", slice.map(SQLValue.text))
                {
                    result[try row.text("id")] = JobStatus(rawValue: try row.text("status"))
                }
            }
            return result
        }
    }

    // MARK: - Control

    public func cancel(jobID: String, now: Date) async throws -> Job {
        try await write { tx in
            guard try Self.stop(tx, jobID: jobID, validatingEndsAs: .cancelled, reason: nil, now: now) else {
                throw try Self.refusal(tx, jobID: jobID, action: .cancel)
            }
            return try Self.fetchJob(tx, id: jobID)
        }
    }

    public func expireOverdueJobs(now: Date) async throws -> [String] {
        try await write(wakingIf: { !$0.isEmpty }) { tx in
            let stoppable = JobStatus.allCases.filter { !$0.isFinal && $0 != .cancelling }
            let overdue = try tx.rows(
                "SELECT id FROM jobs WHERE expires_at <= ? AND status IN (\(stoppable.sqlList)) ORDER BY seq", [SQLValue(now)])
            return try overdue.map { try $0.text("id") }.filter { id in
                try Self.stop(
                    tx, jobID: id, validatingEndsAs: .expired, reason: "its deadline passed before it finished",
                    itemError: "expired: the job's deadline passed before this item ran", now: now)
            }
        }
    }

    public func pause(jobID: String, reason: String?, now: Date) async throws -> Job {
        try await write { tx in
            guard
                try tx.row(
                    "UPDATE jobs SET status = \(JobStatus.paused.sql), status_reason = ? WHERE id = ? AND status IN (\(JobAction.pause.allowedFrom.sqlList)) RETURNING seq",
                    [SQLValue(reason), .text(jobID)]) != nil
            else { throw try Self.refusal(tx, jobID: jobID, action: .pause) }
            return try Self.fetchJob(tx, id: jobID)
        }
    }

    public func setPriority(jobID: String, priority: JobPriority) async throws -> Job {
        try await write { tx in
            guard try tx.row("UPDATE jobs SET priority = ? WHERE id = ? RETURNING seq", [SQLValue(priority.rank), .text(jobID)]) != nil
            else { throw StoreError.jobNotFound(jobID) }
            return try Self.fetchJob(tx, id: jobID)
        }
    }

    /// Until when a job's items go to a provider's batch API: for ever (the batch tier), until
    /// its deadline at the latest (auto, whose dispatcher may move it earlier), or not at all.
    static func batchUntil(_ spec: JobSpec, createdAt: Date) -> Date? {
        switch spec.tier {
        case .standard, .flex: nil
        case .batch: .distantFuture
        case .auto: createdAt.addingTimeInterval(spec.deadlineSeconds ?? JobDeadline.autoSeconds)
        }
    }

    public func resume(jobID: String, budget: Budget?, maxReplyTokens: Int?, now: Date) async throws -> Job {
        let greatest = database.greatest(["owners.served_seq", "excluded.served_seq"])
        return try await write { tx in
            // A new cap replaces the old one whole: a budget that names only tokens drops a cost cap.
            let caps: [SQLValue] = [
                SQLValue(budget == nil ? 0 : 1), SQLValue(budget?.tokens), SQLValue(budget?.costMicros),
            ]
            if let row = try tx.row(
                """
                UPDATE jobs SET status = CASE WHEN started_at IS NULL THEN \(JobStatus.queued.sql) ELSE \(JobStatus.running.sql) END, status_reason = NULL,
                recent_outcomes = '', quota_until = NULL,
                budget_tokens = CASE WHEN ? = 1 THEN CAST(? AS BIGINT) ELSE budget_tokens END,
                budget_cost_micros = CASE WHEN ? = 1 THEN CAST(? AS BIGINT) ELSE budget_cost_micros END,
                reply_token_cap = COALESCE(CAST(? AS BIGINT), reply_token_cap)
                WHERE id = ? AND status = \(JobStatus.paused.sql) RETURNING seq
                """, [caps[0], caps[1], caps[0], caps[2], SQLValue(maxReplyTokens), .text(jobID)])
            {
                try Self.joinFairShare(tx, seq: try row.int64("seq"), greatest: greatest)
                try Self.finalizeIfDone(tx, seq: try row.int64("seq"), now: now)
            } else if try !Self.locate(tx, jobID: jobID).status.isClaimable {
                throw try Self.refusal(tx, jobID: jobID, action: .resume)
            }
            return try Self.fetchJob(tx, id: jobID)
        }
    }

    public func resumeQuotaPaused(now: Date) async throws -> [String] {
        let greatest = database.greatest(["owners.served_seq", "excluded.served_seq"])
        return try await write { tx in
            var resumed: [String] = []
            for row in try tx.rows(
                """
                UPDATE jobs SET status = CASE WHEN started_at IS NULL THEN \(JobStatus.queued.sql) ELSE \(JobStatus.running.sql) END,
                status_reason = NULL, quota_until = NULL
                WHERE quota_until <= ? AND status = \(JobStatus.paused.sql) RETURNING seq, id
                """, [SQLValue(now)])
            {
                try Self.joinFairShare(tx, seq: try row.int64("seq"), greatest: greatest)
                resumed.append(try row.text("id"))
            }
            return resumed
        }
    }

    // MARK: - Shared pieces of transactions

    static func locate(_ tx: any SQLTransaction, jobID: String) throws -> (seq: Int64, status: JobStatus) {
        guard let row = try tx.row("SELECT seq, status FROM jobs WHERE id = ?", [.text(jobID)]) else {
            throw StoreError.jobNotFound(jobID)
        }
        guard let status = JobStatus(rawValue: try row.text("status")) else { throw StoreError.corrupt("status of job \(jobID)") }
        return (try row.int64("seq"), status)
    }

    /// Why a guarded change matched no row: the job is gone, its status forbids `action`, or
    /// (for an ingest step) another process holds its ingest.
    static func refusal(_ tx: any SQLTransaction, jobID: String, action: JobAction) throws -> StoreError {
        let status = try locate(tx, jobID: jobID).status
        guard action.allowedFrom.contains(status) else { return .invalidTransition(jobID: jobID, from: status, action: action.verb) }
        return .conflict("the upload of job \(jobID) is being read by another process", nil)
    }

    static func fetchJob(_ tx: any SQLTransaction, id: String) throws -> Job {
        guard let job = try fetchJobs(tx, where: "id = ?", [.text(id)]).first else { throw StoreError.jobNotFound(id) }
        return job
    }

    /// Jobs matching a `WHERE` clause (with its `ORDER BY` and `LIMIT`), with their errors.
    static func fetchJobs(_ tx: any SQLTransaction, where clause: String, _ arguments: [SQLValue]) throws -> [Job] {
        try jobs(tx, rows: try tx.rows("SELECT \(StoreRows.jobColumns) FROM jobs WHERE \(clause)", arguments))
    }

    /// Jobs from rows of ``StoreRows/jobColumns``, with their errors.
    static func jobs(_ tx: any SQLTransaction, rows: [SQLRow]) throws -> [Job] {
        let errors = try fetchErrors(tx, seqs: try rows.map { try $0.int64("seq") })
        return try rows.map { try StoreRows.job($0, errors: errors[try $0.int64("seq")] ?? []) }
    }

    static func fetchErrors(_ tx: any SQLTransaction, seqs: [Int64]) throws -> [Int64: [JobErrorEntry]] {
        var errors: [Int64: [JobErrorEntry]] = [:]
        for slice in SQLList.slices(seqs) where !slice.isEmpty {
            for row in try tx.rows(
                "SELECT job_seq, body FROM job_errors WHERE job_seq IN (\(SQLList.marks(slice.count))) ORDER BY job_seq, position",
                slice.map(SQLValue.int))
            {
                errors[try row.int64("job_seq"), default: []].append(try StoreRows.errorEntry(row))
            }
        }
        return errors
    }

    /// Appends errors to a job's list without reading it: the count is bumped in the job's row
    /// (which locks it), and only positions under ``Job/maximumErrors`` are kept.
    static func appendErrors(_ tx: any SQLTransaction, seq: Int64, _ errors: [JobErrorEntry]) throws {
        guard !errors.isEmpty,
            let row = try tx.row(
                "UPDATE jobs SET error_count = error_count + ? WHERE seq = ? RETURNING error_count", [SQLValue(errors.count), .int(seq)])
        else { return }
        try insertErrors(tx, seq: seq, errors, countAfter: try row.int("error_count"))
    }

    /// Keeps the first ``Job/maximumErrors`` of a job's errors, given its error count with
    /// `errors` already added.
    static func insertErrors(_ tx: any SQLTransaction, seq: Int64, _ errors: [JobErrorEntry], countAfter: Int) throws {
        let first = countAfter - errors.count
        let kept = errors.enumerated().filter { first + $0.offset < Job.maximumErrors }
        guard !kept.isEmpty else { return }
        try tx.insert(
            into: "job_errors", columns: ["job_seq", "position", "body"],
            rows: kept.map { [.int(seq), SQLValue(first + $0.offset), .text(StoreRows.text($0.element.json))] })
    }

    /// Stops a job: a validating one ends at once as `final` (nothing was dispatched); any other
    /// unfinished one moves to `cancelling`, its pending items are cancelled, and it is final
    /// once its in-flight items come back. Returns `false` when the job's status forbids it.
    /// `itemError`, when given, is what each cancelled item says (an expired job's items say why).
    static func stop(
        _ tx: any SQLTransaction, jobID: String, validatingEndsAs final: JobStatus, reason: String?, itemError: String? = nil, now: Date
    ) throws -> Bool {
        if let row = try tx.row(
            """
            UPDATE jobs SET status = ?, status_reason = ?, total = 0, pending = 0, failed = 0, finished_at = ?, ingest_owner = NULL,
            ingest_expires_at = NULL WHERE id = ? AND status = \(JobStatus.validating.sql) RETURNING seq
            """, [.text(final.rawValue), SQLValue(reason), SQLValue(now), .text(jobID)])
        {
            try tx.execute("DELETE FROM items WHERE job_seq = ?", [.int(try row.int64("seq"))])
            return true
        }
        let stoppable = JobAction.cancel.allowedFrom.filter { $0 != .validating }
        guard
            let row = try tx.row(
                "UPDATE jobs SET status = \(JobStatus.cancelling.sql), status_reason = ? WHERE id = ? AND status IN (\(stoppable.sqlList)) RETURNING seq",
                [SQLValue(reason), .text(jobID)])
        else { return false }
        let seq = try row.int64("seq")
        var change = CountChange()
        change.cancelled = try tx.execute(
            """
            UPDATE items SET status = \(ItemStatus.cancelled.sql), finished_at = ?, error = COALESCE(?, error)
            WHERE job_seq = ? AND status = \(ItemStatus.pending.sql)
            """, [SQLValue(now), SQLValue(itemError), .int(seq)])
        change.pending = -change.cancelled
        try apply(change, to: seq, tx, now: now)
        return true
    }

    /// What ``apply(_:to:_:now:)`` did to a job.
    struct AppliedChange {
        /// The job and its final status, when the change finalised it.
        var finished: (id: String, status: JobStatus)?
        /// The change left nothing pending or running: the job finished, or its next reduce
        /// round's items were added (work to claim).
        var drained = false
    }

    /// Writes a job's count changes (and error count) in one statement, appends its errors, and
    /// finalises it if that left nothing pending or running. The statement returns what
    /// finalising decides on: every round trip here is made under the job's row lock, which the
    /// next claim of the job waits for.
    @discardableResult
    static func apply(_ change: CountChange, to seq: Int64, _ tx: any SQLTransaction, now: Date) throws -> AppliedChange {
        guard
            let row = try tx.row(
                """
                UPDATE jobs SET pending = pending + ?, running = running + ?, succeeded = succeeded + ?, failed = failed + ?,
                cancelled = cancelled + ?, prompt_tokens = prompt_tokens + ?, completion_tokens = completion_tokens + ?,
                cached_tokens = cached_tokens + ?, cache_write_tokens = cache_write_tokens + ?, reasoning_tokens = reasoning_tokens + ?,
                calls = calls + ?, cached = cached + ?, cost_micros = cost_micros + ?, recent_outcomes = COALESCE(?, recent_outcomes),
                error_count = error_count + ?, list_cost_micros = list_cost_micros + ?, flex_calls = flex_calls + ?,
                batch_calls = batch_calls + ?
                WHERE seq = ? RETURNING \(doneColumns), error_count
                """,
                [
                    SQLValue(change.pending), SQLValue(change.running), SQLValue(change.succeeded), SQLValue(change.failed),
                    SQLValue(change.cancelled), SQLValue(change.usage.promptTokens), SQLValue(change.usage.completionTokens),
                    SQLValue(change.usage.cachedTokens), SQLValue(change.usage.cacheWriteTokens), SQLValue(change.usage.reasoningTokens),
                    SQLValue(change.calls), SQLValue(change.cached), .int(change.costMicros), SQLValue(change.recentOutcomes),
                    SQLValue(change.errors.count), .int(change.listCostMicros), SQLValue(change.flexCalls), SQLValue(change.batchCalls),
                    .int(seq),
                ])
        else { return AppliedChange() }
        if !change.errors.isEmpty { try insertErrors(tx, seq: seq, change.errors, countAfter: try row.int("error_count")) }
        guard let status = JobStatus(rawValue: try row.text("status")), JobStatus.open.contains(status),
            try row.int("pending") == 0, try row.int("running") == 0
        else { return AppliedChange() }
        return AppliedChange(finished: try finalize(tx, seq: seq, done: row, now: now), drained: true)
    }

    /// The columns ``finalize(_:seq:done:now:)`` decides on.
    static let doneColumns = "status, total, pending, running, succeeded, failed, cancelled, expires_at, reduce_chars"

    /// Moves a job to its final status when nothing is pending or running. The decision is
    /// ``JobCounts/finalStatus(cancelling:expired:)``; the guard in the `UPDATE` (an open status,
    /// nothing pending or running) makes it happen exactly once, whichever transaction gets there first.
    /// Returns the job and its final status when this call finalised it.
    ///
    /// A map-then-reduce job is not final when its map (or a reduce round) ends: the next
    /// round's items are added here instead, in the same transaction — see ``startNextRound``.
    @discardableResult
    static func finalizeIfDone(_ tx: any SQLTransaction, seq: Int64, now: Date) throws -> (id: String, status: JobStatus)? {
        guard
            let row = try tx.row(
                """
                SELECT \(doneColumns) FROM jobs
                WHERE seq = ? AND status IN (\(JobStatus.open.sqlList)) AND pending = 0 AND running = 0
                """, [.int(seq)])
        else { return nil }
        return try finalize(tx, seq: seq, done: row, now: now)
    }

    /// Finalises (or starts the next reduce round of) a job whose row `done` (its
    /// ``doneColumns``) shows an open status with nothing pending or running.
    static func finalize(_ tx: any SQLTransaction, seq: Int64, done row: SQLRow, now: Date) throws -> (id: String, status: JobStatus)? {
        let expired = try row.optionalDouble("expires_at").map { $0 <= now.timeIntervalSince1970 } ?? false
        if let maxChars = try row.optionalInt64("reduce_chars"), try row.text("status") != "cancelling", !expired,
            try startNextRound(tx, seq: seq, maxChars: Int(maxChars))
        {
            return nil
        }
        guard let final = try StoreRows.counts(row).finalStatus(cancelling: try row.text("status") == "cancelling", expired: expired)
        else { return nil }
        let finalised = try tx.row(
            """
            UPDATE jobs SET status = ?, status_reason = NULL, finished_at = ?, stage = NULL, stage_message = NULL
            WHERE seq = ? AND status IN (\(JobStatus.open.sqlList)) AND pending = 0 AND running = 0 RETURNING id
            """, [.text(final.rawValue), SQLValue(now), .int(seq)])
        guard let finalised else { return nil }
        try cacheAnswers(tx, seq: seq)
        return (try finalised.text("id"), final)
    }

    /// Copies a finished job's answers into the result cache under the keys its items kept, in
    /// one statement in key order; a key already kept keeps its first answer. Each entry is dated
    /// when its item was answered, not when the job ended: the cache's age limit counts from the
    /// answer, however long the job ran.
    ///
    /// Why at the end and not as answers come: the keys are random, so every commit of a few
    /// hundred answers wrote a page of the cache's b-tree for nearly each one — at a million rows,
    /// more than the engine's whole work. Sorted and written once, each page is written once. A
    /// concurrent identical job therefore pays for its own calls until this one ends.
    static func cacheAnswers(_ tx: any SQLTransaction, seq: Int64) throws {
        try tx.execute(
            """
            INSERT INTO result_cache (key, output, model, created_at)
            SELECT cache_key, output, model, finished_at FROM items
            WHERE job_seq = ? AND cache_key IS NOT NULL AND status = \(ItemStatus.succeeded.sql) AND finished_at IS NOT NULL
            ORDER BY cache_key ON CONFLICT (key) DO NOTHING
            """, [.int(seq)])
    }

    /// Adds the next reduce round's items when a round (the map is round 0) has just ended,
    /// each taking as many of the round's succeeded outputs as fit (``ReduceStep/groups(sizes:maxChars:)``).
    /// Returns `false` when the job is done instead: the last round was a single combined
    /// output, or nothing succeeded to combine. Runs under the job's row lock, in the
    /// transaction that ended the round, so a round is started exactly once.
    static func startNextRound(_ tx: any SQLTransaction, seq: Int64, maxChars: Int) throws -> Bool {
        let round = try tx.row(
            "SELECT COALESCE(MAX(round), 0) AS round, COALESCE(MAX(idx), -1) AS last FROM items WHERE job_seq = ?", [.int(seq)])
        let current = try round?.int("round") ?? 0
        var nextIndex = try (round?.int("last") ?? -1) + 1
        let outputs = try tx.rows(
            "SELECT output FROM items WHERE job_seq = ? AND round = ? AND status = \(ItemStatus.succeeded.sql) ORDER BY idx",
            [.int(seq), SQLValue(current)]
        ).map { try $0.text("output") }
        guard !outputs.isEmpty, current == 0 || outputs.count > 1 else { return false }
        let groups = ReduceStep.groups(sizes: outputs.map(\.utf8.count), maxChars: maxChars)
        let next = current + 1
        let rows = groups.map { group -> [SQLValue] in
            defer { nextIndex += 1 }
            // The outputs are stored JSON already: joined as they are, not parsed and rewritten.
            let input = "{\"parts\":[" + outputs[group].joined(separator: ",") + "],\"round\":\(next)}"
            return [.int(seq), SQLValue(nextIndex), .null, .text(ItemStatus.pending.rawValue), .text(input), .null, SQLValue(next)]
        }
        try tx.insert(into: "items", columns: newItemColumns + ["round"], rows: rows)
        let message =
            "Combining \(outputs.count) \(outputs.count == 1 ? "part" : "parts") into the result"
            + (groups.count > 1 ? " in \(groups.count) calls" : "") + " (round \(next))…"
        try tx.execute(
            "UPDATE jobs SET total = total + ?, pending = pending + ?, stage = 'reducing', stage_message = ? WHERE seq = ?",
            [SQLValue(rows.count), SQLValue(rows.count), .text(message), .int(seq)])
        return true
    }
}
