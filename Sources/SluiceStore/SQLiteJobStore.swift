import Foundation
import GRDB
import GRDBSQLite
import SluiceCore

/// The embedded driver: one SQLite file in WAL mode, shareable by several processes on one
/// machine.
///
/// Writes go through GRDB's single writer in immediate transactions, so a read-then-write
/// transaction (claim, record, finalise) never deadlocks against another process; readers
/// run concurrently from the pool.
public final class SQLiteJobStore: JobStore {
    let pool: DatabasePool

    /// Tells SQLite to copy bound text, since Swift's buffer does not outlive the call.
    static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        try SQLiteMigrations.migrator.migrate(pool)
    }

    public func createJob(_ new: NewJob, now: Date) async throws -> Job {
        try await pool.write { db in
            try db.cachedStatement(
                sql: """
                    INSERT INTO jobs (
                        id, owner, name, status, spec, sources, fingerprint, batch_size, max_attempts, created_at, batch, expires_at,
                        items_per_request
                    ) VALUES (?, ?, ?, 'validating', ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [
                new.id, new.owner, new.name, SQLiteRows.text(new.spec.json), SQLiteRows.text(new.sources), new.fingerprint,
                new.spec.batchSize, new.spec.maxAttempts, now.timeIntervalSince1970, new.batch.map { SQLiteRows.text($0.json) },
                new.expiresAt?.timeIntervalSince1970, new.spec.itemsPerRequest,
            ])
            return try Self.fetchJob(db, id: new.id)
        }
    }

    public func appendItems(jobID: String, items: [NewItem]) async throws {
        // Encoded before taking the writer, so the single writer spends its time in SQLite.
        let inputs = items.map { SQLiteRows.text(.object($0.input)) }
        try await pool.write { db in
            let (seq, status) = try Self.locate(db, jobID: jobID)
            guard status == .validating else { throw StoreError.invalidTransition(jobID: jobID, from: status, action: "add items to") }
            var start = 0
            while start < items.count {
                let count = min(Self.rowsPerInsert, items.count - start)
                try Self.insertItems(db, seq: seq, items: items[start..<start + count], inputs: inputs[start..<start + count])
                start += count
            }
            try db.cachedStatement(sql: "UPDATE jobs SET total = total + ?, pending = pending + ? WHERE seq = ?").execute(arguments: [
                items.count, items.count, seq,
            ])
        }
    }

    /// Rows per multi-row `INSERT`: one statement step per row cost as much as the row itself.
    static let rowsPerInsert = 64

    /// Inserts up to ``rowsPerInsert`` items in one statement, binding through the C API — in
    /// the hottest loop of ingest GRDB's argument boxing cost about as much as SQLite's work.
    static func insertItems(_ db: Database, seq: Int64, items: ArraySlice<NewItem>, inputs: ArraySlice<String>) throws {
        let values = Array(repeating: "(?, ?, ?, 'pending', ?)", count: items.count).joined(separator: ", ")
        let statement = try db.cachedStatement(sql: "INSERT INTO items (job_seq, idx, group_key, status, input) VALUES \(values)")
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        var parameter: Int32 = 1
        for (item, input) in zip(items, inputs) {
            sqlite3_bind_int64(handle, parameter, seq)
            sqlite3_bind_int64(handle, parameter + 1, Int64(item.index))
            if let groupKey = item.groupKey {
                sqlite3_bind_text(handle, parameter + 2, groupKey, -1, transient)
            } else {
                sqlite3_bind_null(handle, parameter + 2)
            }
            sqlite3_bind_text(handle, parameter + 3, input, -1, transient)
            parameter += 4
        }
        let code = sqlite3_step(handle)
        sqlite3_reset(handle)
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
    }

    public func finishValidation(jobID: String, now: Date) async throws -> Job {
        try await pool.write { db in
            let (seq, status) = try Self.locate(db, jobID: jobID)
            guard status == .validating else { throw StoreError.invalidTransition(jobID: jobID, from: status, action: "finish validating") }
            try db.cachedStatement(sql: "UPDATE jobs SET status = 'queued' WHERE seq = ?").execute(arguments: [seq])
            try Self.finalizeIfDone(db, seq: seq, now: now)
            return try Self.fetchJob(db, id: jobID)
        }
    }

    public func failValidation(jobID: String, errors: [JobErrorEntry], now: Date) async throws -> Job {
        try await pool.write { db in
            let (seq, status) = try Self.locate(db, jobID: jobID)
            guard status == .validating else {
                throw StoreError.invalidTransition(jobID: jobID, from: status, action: "fail validation of")
            }
            try db.cachedStatement(sql: "DELETE FROM items WHERE job_seq = ?").execute(arguments: [seq])
            try db.cachedStatement(
                sql: """
                    UPDATE jobs SET status = 'failed', status_reason = 'the input is invalid', errors = ?, total = 0,
                    pending = 0, finished_at = ? WHERE seq = ?
                    """
            ).execute(arguments: [SQLiteRows.text(Array(errors.prefix(Job.maximumErrors))), now.timeIntervalSince1970, seq])
            return try Self.fetchJob(db, id: jobID)
        }
    }

    public func restartValidation(jobID: String) async throws {
        try await pool.write { db in
            let (seq, status) = try Self.locate(db, jobID: jobID)
            guard status == .validating else {
                throw StoreError.invalidTransition(jobID: jobID, from: status, action: "restart validation of")
            }
            try db.cachedStatement(sql: "DELETE FROM items WHERE job_seq = ?").execute(arguments: [seq])
            try db.cachedStatement(sql: "UPDATE jobs SET total = 0, pending = 0 WHERE seq = ?").execute(arguments: [seq])
        }
    }

    public func job(id: String) async throws -> Job? {
        try await pool.read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT \(SQLiteRows.jobColumns) FROM jobs WHERE id = ?"), arguments: [id]).map(
                SQLiteRows.job)
        }
    }

    public func job(fingerprint: String) async throws -> Job? {
        try await pool.read { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT \(SQLiteRows.jobColumns) FROM jobs WHERE fingerprint = ? ORDER BY seq DESC LIMIT 1"),
                arguments: [fingerprint]
            ).map(SQLiteRows.job)
        }
    }

    public func jobsAwaitingValidation(limit: Int) async throws -> [Job] {
        try await pool.read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT \(SQLiteRows.jobColumns) FROM jobs WHERE status = 'validating' ORDER BY seq LIMIT ?"),
                arguments: [limit]
            ).map(SQLiteRows.job)
        }
    }

    public func cancel(jobID: String, now: Date) async throws -> Job {
        try await pool.write { db in
            let (seq, status) = try Self.locate(db, jobID: jobID)
            if status.isFinal { throw StoreError.invalidTransition(jobID: jobID, from: status, action: "cancel") }
            try Self.stop(db, seq: seq, status: status, validatingEndsAs: .cancelled, reason: nil, now: now)
            return try Self.fetchJob(db, id: jobID)
        }
    }

    public func expireOverdueJobs(now: Date) async throws -> [String] {
        try await pool.write { db in
            let open = JobStatus.allCases.filter { !$0.isFinal && $0 != .cancelling }.map { "'\($0.rawValue)'" }.joined(separator: ",")
            let rows = try Row.fetchAll(
                db, sql: "SELECT seq, id, status FROM jobs WHERE expires_at <= ? AND status IN (\(open))",
                arguments: [now.timeIntervalSince1970])
            for row in rows {
                guard let status = JobStatus(rawValue: row["status"]) else { continue }
                try Self.stop(
                    db, seq: row["seq"], status: status, validatingEndsAs: .expired, reason: "its window ended before it finished", now: now
                )
            }
            return rows.map { $0["id"] }
        }
    }

    public func pause(jobID: String, reason: String?, now: Date) async throws -> Job {
        try await pool.write { db in
            let (seq, status) = try Self.locate(db, jobID: jobID)
            guard status.isClaimable || status == .paused else {
                throw StoreError.invalidTransition(jobID: jobID, from: status, action: "pause")
            }
            try db.cachedStatement(sql: "UPDATE jobs SET status = 'paused', status_reason = ? WHERE seq = ?").execute(arguments: [
                reason, seq,
            ])
            return try Self.fetchJob(db, id: jobID)
        }
    }

    public func resume(jobID: String, now: Date) async throws -> Job {
        try await pool.write { db in
            let (seq, status) = try Self.locate(db, jobID: jobID)
            if status.isClaimable { return try Self.fetchJob(db, id: jobID) }
            guard status == .paused else { throw StoreError.invalidTransition(jobID: jobID, from: status, action: "resume") }
            try db.cachedStatement(
                sql: """
                    UPDATE jobs SET status = CASE WHEN started_at IS NULL THEN 'queued' ELSE 'running' END,
                    status_reason = NULL WHERE seq = ?
                    """
            ).execute(arguments: [seq])
            try Self.finalizeIfDone(db, seq: seq, now: now)
            return try Self.fetchJob(db, id: jobID)
        }
    }

    public func items(jobID: String, status: ItemStatus?, afterIndex: Int, limit: Int) async throws -> [Item] {
        try await pool.read { db in
            let (seq, _) = try Self.locate(db, jobID: jobID)
            let filter = status == nil ? "" : "AND status = ?"
            var arguments: StatementArguments = [seq, afterIndex]
            if let status { arguments += [status.rawValue] }
            arguments += [limit]
            return try Row.fetchAll(
                db.cachedStatement(
                    sql: "SELECT \(SQLiteRows.itemColumns) FROM items WHERE job_seq = ? AND idx > ? \(filter) ORDER BY idx LIMIT ?"),
                arguments: arguments
            ).map { try SQLiteRows.item($0, jobID: jobID) }
        }
    }

    public func groupHistory(jobID: String, groupKey: String, beforeIndex: Int) async throws -> [Item] {
        try await pool.read { db in
            let (seq, _) = try Self.locate(db, jobID: jobID)
            return try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT \(SQLiteRows.itemColumns) FROM items
                        WHERE job_seq = ? AND group_key = ? AND idx < ? AND status = 'succeeded' ORDER BY idx
                        """),
                arguments: [seq, groupKey, beforeIndex]
            ).map { try SQLiteRows.item($0, jobID: jobID) }
        }
    }

    public func statuses(jobIDs: [String]) async throws -> [String: JobStatus] {
        guard !jobIDs.isEmpty else { return [:] }
        return try await pool.read { db in
            let marks = Array(repeating: "?", count: jobIDs.count).joined(separator: ",")
            var result: [String: JobStatus] = [:]
            for row in try Row.fetchAll(
                db.cachedStatement(sql: "SELECT id, status FROM jobs WHERE id IN (\(marks))"), arguments: StatementArguments(jobIDs))
            {
                result[row["id"]] = JobStatus(rawValue: row["status"])
            }
            return result
        }
    }

    // MARK: - Shared pieces of transactions

    static func locate(_ db: Database, jobID: String) throws -> (seq: Int64, status: JobStatus) {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT seq, status FROM jobs WHERE id = ?"), arguments: [jobID]) else {
            throw StoreError.jobNotFound(jobID)
        }
        guard let status = JobStatus(rawValue: row["status"]) else { throw StoreError.corrupt("status of job \(jobID)") }
        return (row["seq"], status)
    }

    static func fetchJob(_ db: Database, id: String) throws -> Job {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT \(SQLiteRows.jobColumns) FROM jobs WHERE id = ?"), arguments: [id])
        else {
            throw StoreError.jobNotFound(id)
        }
        return try SQLiteRows.job(row)
    }

    /// Cancels a job's pending items and moves it to `cancelling`, final once its in-flight
    /// items come back; a job still validating had nothing dispatched and ends at once.
    static func stop(_ db: Database, seq: Int64, status: JobStatus, validatingEndsAs final: JobStatus, reason: String?, now: Date) throws {
        if status == .validating {
            try db.cachedStatement(sql: "DELETE FROM items WHERE job_seq = ?").execute(arguments: [seq])
            try db.cachedStatement(
                sql: "UPDATE jobs SET status = ?, status_reason = ?, total = 0, pending = 0, finished_at = ? WHERE seq = ?"
            ).execute(arguments: [final.rawValue, reason, now.timeIntervalSince1970, seq])
            return
        }
        try db.cachedStatement(sql: "UPDATE items SET status = 'cancelled', finished_at = ? WHERE job_seq = ? AND status = 'pending'")
            .execute(arguments: [now.timeIntervalSince1970, seq])
        let cancelled = db.changesCount
        try db.cachedStatement(
            sql: """
                UPDATE jobs SET status = 'cancelling', status_reason = ?, pending = pending - ?, cancelled = cancelled + ?
                WHERE seq = ?
                """
        ).execute(arguments: [reason, cancelled, cancelled, seq])
        try finalizeIfDone(db, seq: seq, now: now)
    }

    /// Moves a job to its final status when nothing is pending or running. The status guard in
    /// the `WHERE` makes this happen exactly once, whichever transaction gets there first.
    static func finalizeIfDone(_ db: Database, seq: Int64, now: Date) throws {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT status, total, pending, running, succeeded, failed, cancelled, expires_at FROM jobs
                        WHERE seq = ? AND status IN ('queued', 'running', 'paused', 'cancelling')
                        """),
                arguments: [seq])
        else { return }
        let counts = JobCounts(
            total: row["total"], pending: row["pending"], running: row["running"], succeeded: row["succeeded"],
            failed: row["failed"], cancelled: row["cancelled"])
        let expired = (row["expires_at"] as Double?).map { $0 <= now.timeIntervalSince1970 } ?? false
        guard let final = counts.finalStatus(cancelling: row["status"] == "cancelling", expired: expired) else { return }
        try db.cachedStatement(sql: "UPDATE jobs SET status = ?, status_reason = NULL, finished_at = ? WHERE seq = ?").execute(arguments: [
            final.rawValue, now.timeIntervalSince1970, seq,
        ])
    }
}
