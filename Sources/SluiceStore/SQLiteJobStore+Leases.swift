import Foundation
import GRDB
import SluiceCore

/// Claims, leases and outcomes: the operations workers call, each one transaction.
extension SQLiteJobStore {
    public func claim(owner: String, limit: Int, leaseDuration: Double, now: Date) async throws -> ClaimedBatch? {
        guard limit > 0 else { return nil }
        return try await pool.write { db -> ClaimedBatch? in
            // A handful of candidates: a job can have pending items that are all blocked (their
            // group is busy, or they wait out a back-off), and then the next job is tried.
            let candidates = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT jobs.seq, jobs.id, jobs.owner, jobs.batch_size, jobs.items_per_request FROM jobs
                        LEFT JOIN owners ON owners.owner = jobs.owner
                        WHERE jobs.status IN ('queued', 'running') AND jobs.pending > 0
                        ORDER BY COALESCE(owners.served_seq, 0), jobs.served_seq, jobs.seq LIMIT 16
                        """))
            let nowSeconds = now.timeIntervalSince1970
            let expiry = nowSeconds + leaseDuration
            for candidate in candidates {
                let seq: Int64 = candidate["seq"]
                let jobID: String = candidate["id"]
                let batchSize: Int = candidate["batch_size"]
                let itemsPerCall: Int = candidate["items_per_request"]
                let ids = try Int64.fetchAll(
                    db.cachedStatement(
                        sql: """
                            SELECT id FROM items AS i
                            WHERE i.job_seq = ? AND i.status = 'pending' AND i.available_at <= ?
                            AND (i.group_key IS NULL OR NOT EXISTS (
                                SELECT 1 FROM items AS g
                                WHERE g.job_seq = i.job_seq AND g.group_key = i.group_key
                                AND ((g.idx < i.idx AND g.status = 'pending') OR g.status = 'running')))
                            ORDER BY i.idx LIMIT ?
                            """),
                    arguments: [seq, nowSeconds, min(limit.multipliedReportingOverflow(by: itemsPerCall).partialValue, batchSize)])
                guard !ids.isEmpty else { continue }
                let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
                let rows = try Row.fetchAll(
                    db.cachedStatement(
                        sql: """
                            UPDATE items SET status = 'running', attempts = attempts + 1, lease_owner = ?, lease_expires_at = ?,
                            started_at = ? WHERE id IN (\(marks)) RETURNING \(SQLiteRows.itemColumns.replacingOccurrences(of: "items.", with: ""))
                            """),
                    arguments: [owner, expiry, nowSeconds] + StatementArguments(ids))
                let served = try Int64.fetchOne(db.cachedStatement(sql: "SELECT COALESCE(MAX(served_seq), 0) + 1 FROM owners")) ?? 1
                try db.cachedStatement(
                    sql: """
                        UPDATE jobs SET pending = pending - ?, running = running + ?, status = 'running',
                        started_at = COALESCE(started_at, ?), served_seq = ? WHERE seq = ?
                        """
                ).execute(arguments: [ids.count, ids.count, nowSeconds, served, seq])
                try db.cachedStatement(
                    sql: """
                        INSERT INTO owners (owner, served_seq) VALUES (?, ?)
                        ON CONFLICT (owner) DO UPDATE SET served_seq = excluded.served_seq
                        """
                ).execute(arguments: [candidate["owner"] as String, served])
                let items = try rows.map { try SQLiteRows.item($0, jobID: jobID) }.sorted { $0.index < $1.index }
                return ClaimedBatch(
                    job: try Self.fetchJob(db, id: jobID), items: items, leaseExpiresAt: Date(timeIntervalSince1970: expiry))
            }
            return nil
        }
    }

    public func extendLeases(itemIDs: [Int64], owner: String, until: Date) async throws -> Set<Int64> {
        guard !itemIDs.isEmpty else { return [] }
        return try await pool.write { db in
            let marks = Array(repeating: "?", count: itemIDs.count).joined(separator: ",")
            let held = try Int64.fetchAll(
                db.cachedStatement(
                    sql: """
                        UPDATE items SET lease_expires_at = ?
                        WHERE id IN (\(marks)) AND status = 'running' AND lease_owner = ? RETURNING id
                        """),
                arguments: [until.timeIntervalSince1970] + StatementArguments(itemIDs) + [owner])
            return Set(held)
        }
    }

    public func record(_ outcomes: [ItemOutcome], owner: String, now: Date) async throws -> Set<Int64> {
        guard !outcomes.isEmpty else { return [] }
        return try await pool.write { db in
            let nowSeconds = now.timeIntervalSince1970
            // One statement per outcome kind, prepared once per connection: the lease check is
            // in the WHERE clause, so an item another worker now owns is simply not matched.
            let succeed = try db.cachedStatement(
                sql: """
                    UPDATE items SET status = 'succeeded', output = ?, error = NULL, finished_at = ?, lease_owner = NULL,
                    lease_expires_at = NULL, prompt_tokens = prompt_tokens + ?, completion_tokens = completion_tokens + ?,
                    model = ? WHERE id = ? AND status = 'running' AND lease_owner = ? RETURNING job_seq, idx
                    """)
            let fail = try db.cachedStatement(
                sql: """
                    UPDATE items SET status = 'failed', error = ?, finished_at = ?, lease_owner = NULL, lease_expires_at = NULL,
                    prompt_tokens = prompt_tokens + ?, completion_tokens = completion_tokens + ?, model = COALESCE(?, model)
                    WHERE id = ? AND status = 'running' AND lease_owner = ? RETURNING job_seq, idx
                    """)
            let retry = try db.cachedStatement(
                sql: """
                    UPDATE items SET status = 'pending', error = ?, available_at = ?, attempts = attempts - ?, lease_owner = NULL,
                    lease_expires_at = NULL, prompt_tokens = prompt_tokens + ?, completion_tokens = completion_tokens + ?,
                    model = COALESCE(?, model) WHERE id = ? AND status = 'running' AND lease_owner = ? RETURNING job_seq, idx
                    """)
            var changes: [Int64: CountChange] = [:]
            var recorded: Set<Int64> = []
            var cancelling: [Int64: Bool] = [:]
            for outcome in outcomes {
                let tail: StatementArguments = [
                    outcome.usage.promptTokens, outcome.usage.completionTokens, outcome.model, outcome.itemID, owner,
                ]
                let row: Row?
                switch outcome.result {
                case .succeeded(let output):
                    row = try Row.fetchOne(succeed, arguments: [SQLiteRows.text(output), nowSeconds] + tail)
                case .failed(let message):
                    row = try Row.fetchOne(fail, arguments: [message, nowSeconds] + tail)
                case .retry(let message, let notBefore):
                    row = try Row.fetchOne(retry, arguments: [message, notBefore.timeIntervalSince1970, 0] + tail)
                case .deferred(let message, let notBefore):
                    row = try Row.fetchOne(retry, arguments: [message, notBefore.timeIntervalSince1970, 1] + tail)
                }
                guard let row else { continue }
                let seq: Int64 = row["job_seq"]
                var change = changes[seq, default: CountChange()]
                change.running -= 1
                change.usage = change.usage + outcome.usage
                switch outcome.result {
                case .succeeded: change.succeeded += 1
                case .failed(let message):
                    change.failed += 1
                    change.errors.append(JobErrorEntry(item: row["idx"], message: message))
                case .retry(let message, _), .deferred(let message, _):
                    let isCancelling = try cancelling[seq] ?? Self.isCancelling(db, seq: seq)
                    cancelling[seq] = isCancelling
                    if isCancelling {
                        // A job being cancelled takes no retries: the item ends here.
                        try db.cachedStatement(sql: "UPDATE items SET status = 'cancelled', error = ?, finished_at = ? WHERE id = ?")
                            .execute(arguments: [message, nowSeconds, outcome.itemID])
                        change.cancelled += 1
                    } else {
                        change.pending += 1
                    }
                }
                changes[seq] = change
                recorded.insert(outcome.itemID)
            }
            for (seq, change) in changes { try Self.apply(change, to: seq, db, now: now) }
            return recorded
        }
    }

    public func release(itemIDs: [Int64], owner: String, now: Date) async throws {
        guard !itemIDs.isEmpty else { return }
        try await pool.write { db in
            let marks = Array(repeating: "?", count: itemIDs.count).joined(separator: ",")
            let rows = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT id, job_seq FROM items WHERE id IN (\(marks)) AND status = 'running' AND lease_owner = ?"),
                arguments: StatementArguments(itemIDs) + [owner])
            try Self.returnToPending(db, rows: rows, refund: true, reason: nil, now: now)
        }
    }

    public func leaseOwners() async throws -> [String] {
        try await pool.read { db in
            try String.fetchAll(
                db.cachedStatement(sql: "SELECT DISTINCT lease_owner FROM items WHERE status = 'running' AND lease_owner IS NOT NULL"))
        }
    }

    public func releaseLeases(owner: String, reason: String, now: Date) async throws -> Int {
        try await pool.write { db in
            let rows = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT id, job_seq FROM items WHERE status = 'running' AND lease_owner = ?"), arguments: [owner])
            try Self.returnToPending(db, rows: rows, refund: false, reason: reason, now: now)
            return rows.count
        }
    }

    public func reclaimExpiredLeases(now: Date) async throws -> Int {
        try await pool.write { db in
            let rows = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT id, job_seq FROM items WHERE status = 'running' AND lease_expires_at < ?"),
                arguments: [now.timeIntervalSince1970])
            try Self.returnToPending(db, rows: rows, refund: false, reason: "the worker's lease expired", now: now)
            return rows.count
        }
    }

    public func releaseAllLeases(jobID: String, now: Date) async throws -> Int {
        try await pool.write { db in
            let (seq, _) = try Self.locate(db, jobID: jobID)
            let rows = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT id, job_seq FROM items WHERE job_seq = ? AND status = 'running'"), arguments: [seq])
            try Self.returnToPending(db, rows: rows, refund: false, reason: "the previous run stopped before this item finished", now: now)
            return rows.count
        }
    }

    // MARK: - Shared pieces

    /// Per-job count changes gathered over one transaction and applied in one statement.
    struct CountChange {
        var pending = 0
        var running = 0
        var succeeded = 0
        var failed = 0
        var cancelled = 0
        var usage = TokenUsage()
        var errors: [JobErrorEntry] = []
    }

    static func apply(_ change: CountChange, to seq: Int64, _ db: Database, now: Date) throws {
        try db.cachedStatement(
            sql: """
                UPDATE jobs SET pending = pending + ?, running = running + ?, succeeded = succeeded + ?, failed = failed + ?,
                cancelled = cancelled + ?, prompt_tokens = prompt_tokens + ?, completion_tokens = completion_tokens + ?
                WHERE seq = ?
                """
        ).execute(arguments: [
            change.pending, change.running, change.succeeded, change.failed, change.cancelled, change.usage.promptTokens,
            change.usage.completionTokens, seq,
        ])
        if !change.errors.isEmpty {
            let stored = try String.fetchOne(db.cachedStatement(sql: "SELECT errors FROM jobs WHERE seq = ?"), arguments: [seq]) ?? "[]"
            var errors = (try? JSONParser.parse(stored))?.arrayValue ?? []
            if errors.count < Job.maximumErrors {
                errors += change.errors.prefix(Job.maximumErrors - errors.count).map(\.json)
                try db.cachedStatement(sql: "UPDATE jobs SET errors = ? WHERE seq = ?").execute(arguments: [
                    SQLiteRows.text(.array(errors)), seq,
                ])
            }
        }
        try finalizeIfDone(db, seq: seq, now: now)
    }

    /// Ends a running item without a model outcome (cancelled, or out of attempts).
    static func finish(_ db: Database, itemID: Int64, as status: ItemStatus, error: String, now: Double) throws {
        try db.cachedStatement(
            sql: """
                UPDATE items SET status = ?, error = ?, finished_at = ?, lease_owner = NULL, lease_expires_at = NULL
                WHERE id = ?
                """
        ).execute(arguments: [status.rawValue, error, now, itemID])
    }

    static func isCancelling(_ db: Database, seq: Int64) throws -> Bool {
        try String.fetchOne(db.cachedStatement(sql: "SELECT status FROM jobs WHERE seq = ?"), arguments: [seq])
            == JobStatus.cancelling.rawValue
    }

    /// Takes running items back from their owner: to `pending` normally, to `cancelled` when
    /// their job is being cancelled, and to `failed` when a lost lease used their last attempt
    /// (an item that kills every worker that touches it must not loop forever).
    static func returnToPending(_ db: Database, rows: [Row], refund: Bool, reason: String?, now: Date) throws {
        guard !rows.isEmpty else { return }
        var changes: [Int64: CountChange] = [:]
        var jobInfo: [Int64: (cancelling: Bool, maxAttempts: Int)] = [:]
        for row in rows {
            let id: Int64 = row["id"]
            let seq: Int64 = row["job_seq"]
            let info: (cancelling: Bool, maxAttempts: Int)
            if let known = jobInfo[seq] {
                info = known
            } else {
                let job = try Row.fetchOne(db.cachedStatement(sql: "SELECT status, max_attempts FROM jobs WHERE seq = ?"), arguments: [seq])
                info = (job?["status"] == JobStatus.cancelling.rawValue, job?["max_attempts"] ?? 1)
                jobInfo[seq] = info
            }
            var change = changes[seq, default: CountChange()]
            change.running -= 1
            let attempts = try Int.fetchOne(db.cachedStatement(sql: "SELECT attempts FROM items WHERE id = ?"), arguments: [id]) ?? 0
            if info.cancelling {
                try finish(db, itemID: id, as: .cancelled, error: reason ?? "cancelled", now: now.timeIntervalSince1970)
                change.cancelled += 1
            } else if !refund, attempts >= info.maxAttempts {
                let message = "\(reason ?? "interrupted") on the last of \(info.maxAttempts) attempts"
                try finish(db, itemID: id, as: .failed, error: message, now: now.timeIntervalSince1970)
                change.failed += 1
                let index = try Int.fetchOne(db.cachedStatement(sql: "SELECT idx FROM items WHERE id = ?"), arguments: [id]) ?? 0
                change.errors.append(JobErrorEntry(item: index, message: message))
            } else {
                try db.cachedStatement(
                    sql: """
                        UPDATE items SET status = 'pending', lease_owner = NULL, lease_expires_at = NULL,
                        attempts = attempts - ?, error = COALESCE(?, error) WHERE id = ?
                        """
                ).execute(arguments: [refund ? 1 : 0, reason, id])
                change.pending += 1
            }
            changes[seq] = change
        }
        for (seq, change) in changes { try apply(change, to: seq, db, now: now) }
    }
}
