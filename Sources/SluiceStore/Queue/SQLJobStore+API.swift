public import Foundation
public import SluiceCore

/// What the HTTP API reads and writes besides the job life cycle: lists, retry, delete,
/// monitoring totals, Batch API files and API keys.
extension SQLJobStore {
    public func jobs(_ query: JobQuery) async throws -> [Job] {
        var conditions: [String] = []
        var arguments: [SQLValue] = []
        if let owner = query.owner {
            conditions.append("owner = ?")
            arguments.append(.text(owner))
        }
        if let status = query.status {
            conditions.append("status = ?")
            arguments.append(.text(status.rawValue))
        }
        switch query.kind {
        case .any: break
        case .native: conditions.append("batch IS NULL")
        case .batch: conditions.append("batch IS NOT NULL AND substr(id, 1, 9) <> 'msgbatch_'")
        case .messageBatch: conditions.append("substr(id, 1, 9) = 'msgbatch_'")
        }
        if let after = query.after {
            // An unknown cursor matches nothing rather than restarting the list.
            conditions.append("seq < COALESCE((SELECT seq FROM jobs WHERE id = ?), -1)")
            arguments.append(.text(after))
        }
        if let before = query.before {
            conditions.append("seq > COALESCE((SELECT seq FROM jobs WHERE id = ?), 9223372036854775807)")
            arguments.append(.text(before))
        }
        let filter = conditions.isEmpty ? "1 = 1" : conditions.joined(separator: " AND ")
        // Newer than a cursor means the oldest of those first, then turned newest first again.
        let order = query.before == nil ? "DESC" : "ASC"
        let jobs = try await read { [arguments] tx in
            try Self.fetchJobs(tx, where: "\(filter) ORDER BY seq \(order) LIMIT ?", arguments + [SQLValue(query.limit)])
        }
        return query.before == nil ? jobs : jobs.reversed()
    }

    public func retryFailed(jobID: String, now: Date) async throws -> Job {
        try await write { tx in
            guard
                let row = try tx.row(
                    """
                    UPDATE jobs SET status = \(JobStatus.running.sql), status_reason = NULL, finished_at = NULL, announced = 0,
                    expires_at = CASE WHEN expires_at <= ? THEN ? + (expires_at - created_at) ELSE expires_at END
                    WHERE id = ? AND status IN (\(JobAction.retryFailed.allowedFrom.sqlList)) AND failed > 0 RETURNING seq
                    """, [SQLValue(now), SQLValue(now), .text(jobID)])
            else {
                throw StoreError.invalidTransition(
                    jobID: jobID, from: try Self.locate(tx, jobID: jobID).status, action: JobAction.retryFailed.verb)
            }
            let seq = try row.int64("seq")
            var change = CountChange()
            change.pending = try tx.execute(
                """
                UPDATE items SET status = \(ItemStatus.pending.sql), attempts = 0, error = NULL, output = NULL, available_at = 0,
                started_at = NULL, finished_at = NULL WHERE job_seq = ? AND status = \(ItemStatus.failed.sql)
                """, [.int(seq)])
            change.failed = -change.pending
            try Self.apply(change, to: seq, tx, now: now)
            return try Self.fetchJob(tx, id: jobID)
        }
    }

    public func queues() async throws -> [QueueRow] {
        try await read { tx in
            try tx.rows(
                """
                SELECT owner, priority, COUNT(*) AS jobs, CAST(SUM(pending) AS BIGINT) AS pending, CAST(SUM(running) AS BIGINT) AS running,
                CAST(SUM(CASE WHEN status = \(JobStatus.paused.sql) THEN 1 ELSE 0 END) AS BIGINT) AS paused
                FROM jobs WHERE status IN (\(JobStatus.open.sqlList)) GROUP BY owner, priority ORDER BY owner, priority DESC
                """, []
            ).map { row in
                let rank = try row.int("priority")
                return QueueRow(
                    owner: try row.text("owner"), priority: JobPriority.allCases.first { $0.rank == rank } ?? .normal,
                    jobs: try row.int("jobs"),
                    pending: try row.int("pending"), running: try row.int("running"), paused: try row.int("paused"))
            }
        }
    }

    public func deleteFinishedJobs(finishedBefore: Date, limit: Int) async throws -> [String] {
        let skipLocked = database.skipLocked("jobs")
        return try await write { tx in
            let rows = try tx.rows(
                """
                SELECT seq, id FROM jobs WHERE finished_at < ? AND status IN (\(JobStatus.allCases.filter(\.isFinal).sqlList))
                ORDER BY finished_at LIMIT ? \(skipLocked)
                """, [SQLValue(finishedBefore), SQLValue(limit)])
            for slice in SQLList.slices(try rows.map { try $0.int64("seq") }) {
                try tx.execute("DELETE FROM items WHERE job_seq IN (\(SQLList.marks(slice.count)))", slice.map(SQLValue.int))
                try tx.execute("DELETE FROM jobs WHERE seq IN (\(SQLList.marks(slice.count)))", slice.map(SQLValue.int))
            }
            return try rows.map { try $0.text("id") }
        }
    }

    public func deleteJob(jobID: String) async throws {
        try await write { tx in
            // The job's row first (its lock keeps ingest and claims away), then its items; its
            // errors go with it by ON DELETE CASCADE.
            guard let row = try tx.row("DELETE FROM jobs WHERE id = ? RETURNING seq", [.text(jobID)]) else {
                throw StoreError.jobNotFound(jobID)
            }
            try tx.execute("DELETE FROM items WHERE job_seq = ?", [.int(try row.int64("seq"))])
        }
    }

    public func census() async throws -> StoreCensus {
        try await read { tx in
            var byStatus: [JobStatus: Int] = [:]
            for row in try tx.rows("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status", []) {
                if let status = JobStatus(rawValue: try row.text("status")) { byStatus[status] = try row.int("n") }
            }
            let open = JobStatus.allCases.filter { !$0.isFinal }
            let row = try tx.row(
                """
                SELECT COALESCE(SUM(total), 0) AS total, COALESCE(SUM(pending), 0) AS pending,
                COALESCE(SUM(running), 0) AS running, COALESCE(SUM(succeeded), 0) AS succeeded,
                COALESCE(SUM(failed), 0) AS failed, COALESCE(SUM(cancelled), 0) AS cancelled
                FROM jobs WHERE status IN (\(open.sqlList))
                """, [])
            return StoreCensus(jobsByStatus: byStatus, openItems: try row.map(StoreRows.counts) ?? JobCounts())
        }
    }

    public func checkReady() async throws {
        let pending = try await database.pendingMigrations()
        guard pending.isEmpty else { throw StoreError.notReady("migrations are pending: \(pending.joined(separator: ", "))") }
    }

    // MARK: Job activity

    public func activity(jobID: String) async throws -> [JobActivity.Sample] {
        try await read { tx in
            try tx.rows(
                """
                SELECT bucket, finished, throttled FROM job_activity
                WHERE job_seq = (SELECT seq FROM jobs WHERE id = ?) ORDER BY bucket
                """, [.text(jobID)]
            ).map { row in
                JobActivity.Sample(
                    start: Date(timeIntervalSince1970: Double(try row.int64("bucket")) * JobActivity.bucketSeconds),
                    finished: try row.int("finished"), throttled: try row.int("throttled"))
            }
        }
    }
}
