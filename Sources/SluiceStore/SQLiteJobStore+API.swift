import Foundation
import GRDB
import SluiceCore

/// What the HTTP API reads and writes besides the job life cycle: lists, retry, delete,
/// monitoring totals, Batch API files and API keys.
extension SQLiteJobStore {
    public func jobs(_ query: JobQuery) async throws -> [Job] {
        try await pool.read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let owner = query.owner {
                conditions.append("owner = ?")
                arguments += [owner]
            }
            if let status = query.status {
                conditions.append("status = ?")
                arguments += [status.rawValue]
            }
            switch query.kind {
            case .any: break
            case .native: conditions.append("batch IS NULL")
            case .batch: conditions.append("batch IS NOT NULL")
            }
            if let after = query.after {
                // An unknown cursor matches nothing rather than restarting the list.
                conditions.append("seq < COALESCE((SELECT seq FROM jobs WHERE id = ?), -1)")
                arguments += [after]
            }
            arguments += [query.limit]
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            return try Row.fetchAll(
                db, sql: "SELECT \(SQLiteRows.jobColumns) FROM jobs \(filter) ORDER BY seq DESC LIMIT ?", arguments: arguments
            ).map(SQLiteRows.job)
        }
    }

    public func retryFailed(jobID: String, now: Date) async throws -> Job {
        try await pool.write { db in
            let (seq, status) = try Self.locate(db, jobID: jobID)
            let job = try Self.fetchJob(db, id: jobID)
            guard status.isFinal, job.counts.failed > 0 else {
                throw StoreError.invalidTransition(jobID: jobID, from: status, action: "retry the failed items of")
            }
            try db.cachedStatement(
                sql: """
                    UPDATE items SET status = 'pending', attempts = 0, error = NULL, output = NULL, available_at = 0,
                    started_at = NULL, finished_at = NULL WHERE job_seq = ? AND status = 'failed'
                    """
            ).execute(arguments: [seq])
            let retried = db.changesCount
            try db.cachedStatement(
                sql: """
                    UPDATE jobs SET status = 'running', status_reason = NULL, finished_at = NULL,
                    failed = failed - ?, pending = pending + ? WHERE seq = ?
                    """
            ).execute(arguments: [retried, retried, seq])
            return try Self.fetchJob(db, id: jobID)
        }
    }

    public func deleteJob(jobID: String) async throws {
        try await pool.write { db in
            let (seq, _) = try Self.locate(db, jobID: jobID)
            // Its items go with it: items.job_seq is ON DELETE CASCADE.
            try db.execute(sql: "DELETE FROM jobs WHERE seq = ?", arguments: [seq])
        }
    }

    public func census() async throws -> StoreCensus {
        try await pool.read { db in
            var byStatus: [JobStatus: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) AS n FROM jobs GROUP BY status") {
                if let status = JobStatus(rawValue: row["status"]) { byStatus[status] = row["n"] }
            }
            let open = JobStatus.allCases.filter { !$0.isFinal }.map { "'\($0.rawValue)'" }.joined(separator: ",")
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT COALESCE(SUM(total), 0) AS total, COALESCE(SUM(pending), 0) AS pending,
                    COALESCE(SUM(running), 0) AS running, COALESCE(SUM(succeeded), 0) AS succeeded,
                    COALESCE(SUM(failed), 0) AS failed, COALESCE(SUM(cancelled), 0) AS cancelled
                    FROM jobs WHERE status IN (\(open))
                    """)
            let counts = row.map {
                JobCounts(
                    total: $0["total"], pending: $0["pending"], running: $0["running"], succeeded: $0["succeeded"],
                    failed: $0["failed"], cancelled: $0["cancelled"])
            }
            return StoreCensus(jobsByStatus: byStatus, openItems: counts ?? JobCounts())
        }
    }

    public func checkReady() async throws {
        let migrated = try await pool.read { db in try SQLiteMigrations.migrator.hasCompletedMigrations(db) }
        guard migrated else { throw StoreError.notReady("migrations are pending") }
    }

    // MARK: Files

    static let fileColumns = "id, owner, filename, purpose, bytes, path, created_at"

    static func file(_ row: Row) -> StoredFile {
        StoredFile(
            id: row["id"], owner: row["owner"], filename: row["filename"], purpose: row["purpose"], bytes: row["bytes"],
            path: row["path"], createdAt: Date(timeIntervalSince1970: row["created_at"]))
    }

    public func createFile(_ file: StoredFile) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO files (\(Self.fileColumns)) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    file.id, file.owner, file.filename, file.purpose, file.bytes, file.path, file.createdAt.timeIntervalSince1970,
                ])
        }
    }

    public func file(id: String) async throws -> StoredFile? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.fileColumns) FROM files WHERE id = ?", arguments: [id]).map(Self.file)
        }
    }

    public func files(owner: String?, purpose: String?, after: String?, limit: Int, oldestFirst: Bool) async throws -> [StoredFile] {
        try await pool.read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let owner {
                conditions.append("owner = ?")
                arguments += [owner]
            }
            if let purpose {
                conditions.append("purpose = ?")
                arguments += [purpose]
            }
            if let after {
                conditions.append(
                    oldestFirst
                        ? "seq > COALESCE((SELECT seq FROM files WHERE id = ?), 9223372036854775807)"
                        : "seq < COALESCE((SELECT seq FROM files WHERE id = ?), -1)")
                arguments += [after]
            }
            arguments += [limit]
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            return try Row.fetchAll(
                db, sql: "SELECT \(Self.fileColumns) FROM files \(filter) ORDER BY seq \(oldestFirst ? "ASC" : "DESC") LIMIT ?",
                arguments: arguments
            ).map(Self.file)
        }
    }

    public func deleteFile(id: String) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM files WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    // MARK: API keys

    static func key(_ row: Row) -> APIKeyRecord {
        APIKeyRecord(
            id: row["id"], user: row["user"], isAdmin: row["is_admin"], hash: row["hash"], prefix: row["prefix"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]), revokedAt: SQLiteRows.date(row["revoked_at"]))
    }

    public func createKey(_ key: APIKeyRecord) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO api_keys (id, user, is_admin, hash, prefix, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    key.id, key.user, key.isAdmin, key.hash, key.prefix, key.createdAt.timeIntervalSince1970,
                    key.revokedAt?.timeIntervalSince1970,
                ])
        }
    }

    public func key(hash: String) async throws -> APIKeyRecord? {
        try await pool.read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM api_keys WHERE hash = ?"), arguments: [hash]).map(Self.key)
        }
    }

    public func keys() async throws -> [APIKeyRecord] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM api_keys ORDER BY created_at, id").map(Self.key) }
    }

    public func revokeKey(id: String, now: Date) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", arguments: [now.timeIntervalSince1970, id])
            return db.changesCount > 0
        }
    }
}
