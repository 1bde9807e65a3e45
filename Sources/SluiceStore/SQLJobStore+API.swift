import Foundation
import SluiceCore

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
                    UPDATE jobs SET status = \(JobStatus.running.sql), status_reason = NULL, finished_at = NULL, announced = 0
                    WHERE id = ? AND status IN (\(JobAction.retryFailed.allowedFrom.sqlList)) AND failed > 0 RETURNING seq
                    """, [.text(jobID)])
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

    // MARK: Files

    public func createFile(_ file: StoredFile) async throws {
        try await write { tx in
            try tx.execute(
                "INSERT INTO files (\(StoreRows.fileColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    .text(file.id), .text(file.owner), .text(file.filename), .text(file.purpose), SQLValue(file.bytes), .text(file.path),
                    SQLValue(file.createdAt), SQLValue(file.expiresAt),
                ])
        }
    }

    public func file(id: String) async throws -> StoredFile? {
        try await read { tx in try tx.row("SELECT \(StoreRows.fileColumns) FROM files WHERE id = ?", [.text(id)]).map(StoreRows.file) }
    }

    public func files(owner: String?, purpose: String?, after: String?, limit: Int, oldestFirst: Bool) async throws -> [StoredFile] {
        var conditions: [String] = []
        var arguments: [SQLValue] = []
        if let owner {
            conditions.append("owner = ?")
            arguments.append(.text(owner))
        }
        if let purpose {
            conditions.append("purpose = ?")
            arguments.append(.text(purpose))
        }
        if let after {
            conditions.append(
                oldestFirst
                    ? "seq > COALESCE((SELECT seq FROM files WHERE id = ?), 9223372036854775807)"
                    : "seq < COALESCE((SELECT seq FROM files WHERE id = ?), -1)")
            arguments.append(.text(after))
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try await read { [arguments] tx in
            try tx.rows(
                "SELECT \(StoreRows.fileColumns) FROM files \(filter) ORDER BY seq \(oldestFirst ? "ASC" : "DESC") LIMIT ?",
                arguments + [SQLValue(limit)]
            ).map(StoreRows.file)
        }
    }

    public func expiredFiles(now: Date, limit: Int) async throws -> [StoredFile] {
        try await read { tx in
            try tx.rows(
                "SELECT \(StoreRows.fileColumns) FROM files WHERE expires_at <= ? ORDER BY expires_at LIMIT ?",
                [SQLValue(now), SQLValue(limit)]
            ).map(StoreRows.file)
        }
    }

    public func deleteFile(id: String) async throws -> Bool {
        try await write { tx in try tx.execute("DELETE FROM files WHERE id = ?", [.text(id)]) > 0 }
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

    // MARK: Web sessions

    public func createSession(_ session: WebSession, now: Date) async throws {
        try await write { tx in
            // Sessions that have run out go when a new one starts: the table stays small without a sweeper.
            try tx.execute("DELETE FROM web_sessions WHERE expires_at <= ?", [SQLValue(now)])
            try tx.execute(
                "INSERT INTO web_sessions (hash, key_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                [.text(session.hash), .text(session.keyID), SQLValue(session.createdAt), SQLValue(session.expiresAt)])
        }
    }

    public func sessionKey(hash: String, now: Date) async throws -> APIKeyRecord? {
        try await read { tx in
            try tx.row(
                """
                SELECT \(StoreRows.keyColumns) FROM api_keys WHERE revoked_at IS NULL
                AND id = (SELECT key_id FROM web_sessions WHERE hash = ? AND expires_at > ?)
                """, [.text(hash), SQLValue(now)]
            ).map(StoreRows.key)
        }
    }

    public func deleteSession(hash: String) async throws {
        try await write { tx in _ = try tx.execute("DELETE FROM web_sessions WHERE hash = ?", [.text(hash)]) }
    }

    // MARK: API keys

    public func createKey(_ key: APIKeyRecord) async throws {
        try await write { tx in
            try tx.execute(
                "INSERT INTO api_keys (\(StoreRows.keyColumns)) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    .text(key.id), .text(key.user), SQLValue(key.isAdmin), .text(key.hash), .text(key.prefix), SQLValue(key.createdAt),
                    SQLValue(key.revokedAt),
                ])
        }
    }

    public func key(hash: String) async throws -> APIKeyRecord? {
        try await read { tx in try tx.row("SELECT \(StoreRows.keyColumns) FROM api_keys WHERE hash = ?", [.text(hash)]).map(StoreRows.key) }
    }

    public func keys() async throws -> [APIKeyRecord] {
        try await read { tx in try tx.rows("SELECT \(StoreRows.keyColumns) FROM api_keys ORDER BY created_at, id", []).map(StoreRows.key) }
    }

    public func revokeKey(id: String, now: Date) async throws -> Bool {
        try await write { tx in
            try tx.execute("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", [SQLValue(now), .text(id)]) > 0
        }
    }
}
