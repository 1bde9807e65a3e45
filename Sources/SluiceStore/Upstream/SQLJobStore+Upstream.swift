public import Foundation
public import SluiceCore

/// The batch tier's upstream batches, in both drivers' SQL.
extension SQLJobStore: UpstreamBatchStore {
    public func claimForUpstream(
        batchID: String, providers: [String], worker: String, maxItems: Int, leaseSeconds: Double, itemLeaseSeconds: Double, now: Date
    ) async throws -> ClaimedBatch? {
        guard !providers.isEmpty, maxItems > 0 else { return nil }
        let take = ClaimTake(
            owner: UpstreamBatch.itemOwner(batchID), leaseUntil: now + itemLeaseSeconds, now: now, lockJob: database.lockClause,
            skipLocked: database.skipLocked("i"), specs: specs)
        let (batch, paused) = try await write(wakes: false) { tx -> (ClaimedBatch?, paused: Bool) in
            let candidates = try Self.claimCandidates(
                tx, where: "jobs.batch_until > ? AND jobs.provider IN (\(SQLList.marks(providers.count)))",
                [SQLValue(now)] + providers.map(SQLValue.text))
            let (claimed, paused) = try Self.claimFirst(tx, candidates: candidates, take: take) { _ in maxItems }
            guard let claimed else { return (nil, paused) }
            try tx.execute(
                """
                INSERT INTO upstream_batches (id, job_seq, provider, status, created_at, next_poll_at, lease_owner, lease_expires_at)
                VALUES (?, (SELECT seq FROM jobs WHERE id = ?), ?, 'submitting', ?, ?, ?, ?)
                """,
                [
                    .text(batchID), .text(claimed.job.id), .text(claimed.job.spec.provider), SQLValue(now), SQLValue(now), .text(worker),
                    SQLValue(now + leaseSeconds),
                ])
            return (claimed, paused)
        }
        if batch != nil || paused { commits.wakeAll() }
        return batch
    }

    public func markSubmitted(batchID: String, upstreamID: String, units: [String: [Int64]], tokens: Int, nextPollAt: Date) async throws {
        let text = StoreRows.text(
            .object(JSONObject(units.sorted { $0.key < $1.key }.map { ($0.key, .array($0.value.map { .int(Int($0)) })) })))
        try await write(wakes: false) { tx in
            try tx.execute(
                """
                UPDATE upstream_batches SET upstream_id = ?, units = ?, tokens = ?, status = 'running', next_poll_at = ?,
                lease_owner = NULL, lease_expires_at = NULL WHERE id = ?
                """, [.text(upstreamID), .text(text), SQLValue(tokens), SQLValue(nextPollAt), .text(batchID)])
        }
    }

    public func claimDueUpstreamBatch(worker: String, leaseSeconds: Double, now: Date) async throws -> UpstreamBatch? {
        try await write(wakes: false) { tx -> UpstreamBatch? in
            // Due: its poll time has come, its job is being cancelled or has gone live (to stop it
            // at once), or its submission's worker let its hold lapse. Never one held now.
            guard
                let due = try tx.row(
                    """
                    SELECT u.id FROM upstream_batches AS u JOIN jobs ON jobs.seq = u.job_seq
                    WHERE (u.lease_owner IS NULL OR u.lease_expires_at < ?)
                    AND (u.status = 'submitting' OR u.next_poll_at <= ?
                        OR (u.status = 'running' AND (jobs.status IN (\(JobStatus.cancelling.sql), \(JobStatus.cancelled.sql))
                            OR jobs.batch_until <= ?)))
                    ORDER BY u.next_poll_at LIMIT 1
                    """, [SQLValue(now), SQLValue(now), SQLValue(now)]),
                let row = try tx.row(
                    """
                    UPDATE upstream_batches SET lease_owner = ?, lease_expires_at = ?, polls = polls + 1
                    WHERE id = ? AND (lease_owner IS NULL OR lease_expires_at < ?)
                    RETURNING id, job_seq, provider, upstream_id, status, units, created_at, polls
                    """, [.text(worker), SQLValue(now + leaseSeconds), .text(try due.text("id")), SQLValue(now)]),
                let job = try tx.row("SELECT id, status, batch_until FROM jobs WHERE seq = ?", [.int(try row.int64("job_seq"))])
            else { return nil }
            let id = try row.text("id")
            guard let status = UpstreamBatch.Status(rawValue: try row.text("status")),
                let jobStatus = JobStatus(rawValue: try job.text("status"))
            else { throw StoreError.corrupt("status of upstream batch \(id)") }
            var units: [String: [Int64]] = [:]
            if let text = try row.optionalText("units") {
                guard case .object(let members)? = try? JSONParser.parse(text) else {
                    throw StoreError.corrupt("calls of upstream batch \(id)")
                }
                for member in members {
                    units[member.key] = member.value.arrayValue?.compactMap { $0.intValue.map(Int64.init) } ?? []
                }
            }
            let wentLive = try job.optionalDate("batch_until").map { $0 <= now } ?? true
            return UpstreamBatch(
                id: id, jobID: try job.text("id"), provider: try row.text("provider"), upstreamID: try row.optionalText("upstream_id"),
                status: status, units: units, createdAt: try row.date("created_at"), polls: try row.int("polls"), jobStatus: jobStatus,
                jobWentLive: wentLive)
        }
    }

    public func reschedule(batchID: String, status: UpstreamBatch.Status, nextPollAt: Date) async throws {
        try await write(wakes: false) { tx in
            try tx.execute(
                "UPDATE upstream_batches SET status = ?, next_poll_at = ?, lease_owner = NULL, lease_expires_at = NULL WHERE id = ?",
                [.text(status.rawValue), SQLValue(nextPollAt), .text(batchID)])
        }
    }

    public func closeUpstreamBatch(batchID: String, spending reason: String?, now: Date) async throws {
        // By job first: the items' index leads with it.
        try await takeBack(
            where: "job_seq = (SELECT job_seq FROM upstream_batches WHERE id = ?) AND lease_owner = ?",
            [.text(batchID), .text(UpstreamBatch.itemOwner(batchID))], refund: reason == nil, reason: reason, now: now)
        try await write(wakes: false) { tx in
            try tx.execute("DELETE FROM upstream_batches WHERE id = ?", [.text(batchID)])
        }
    }

    public func upstreamItems(batchID: String, itemIDs: [Int64]) async throws -> (job: Job, items: [Item])? {
        let owner = UpstreamBatch.itemOwner(batchID)
        return try await read { tx -> (job: Job, items: [Item])? in
            guard
                let jobRow = try tx.row(
                    "SELECT \(StoreRows.jobColumns) FROM jobs WHERE seq = (SELECT job_seq FROM upstream_batches WHERE id = ?)",
                    [.text(batchID)])
            else { return nil }
            let job = try StoreRows.job(jobRow, errors: [])
            var items: [Item] = []
            for slice in SQLList.slices(itemIDs) where !slice.isEmpty {
                items += try tx.rows(
                    """
                    SELECT \(StoreRows.itemColumns) FROM items
                    WHERE id IN (\(SQLList.marks(slice.count))) AND status = \(ItemStatus.running.sql) AND lease_owner = ?
                    """, slice.map(SQLValue.int) + [.text(owner)]
                ).map { try StoreRows.item($0, jobID: job.id) }
            }
            return (job, items.sorted { $0.index < $1.index })
        }
    }

    public func upstreamTokens(provider: String) async throws -> Int {
        try await read { tx in
            try tx.row("SELECT COALESCE(SUM(tokens), 0) AS tokens FROM upstream_batches WHERE provider = ?", [.text(provider)])?
                .int("tokens") ?? 0
        }
    }

    public func goLive(jobID: String, now: Date) async throws {
        try await write { tx in
            try tx.execute(
                "UPDATE jobs SET batch_until = ? WHERE id = ? AND batch_until > ?", [SQLValue(now), .text(jobID), SQLValue(now)])
        }
    }

    public func autoJobs(now: Date) async throws -> [AutoJob] {
        let specs = self.specs
        return try await read { tx in
            try tx.rows(
                """
                SELECT \(StoreRows.jobColumns) FROM jobs
                WHERE status IN (\(JobStatus.open.sqlList)) AND batch_until > ? AND batch_until < ?
                """, [SQLValue(now), SQLValue(Date.distantFuture)]
            ).compactMap { row -> AutoJob? in
                let job = try StoreRows.job(row, errors: [], specs: specs)
                guard job.spec.tier == .auto else { return nil }
                return AutoJob(
                    id: job.id, provider: job.spec.provider, unfinished: job.counts.pending + job.counts.running,
                    itemsPerRequest: job.spec.itemsPerRequest,
                    deadline: job.createdAt.addingTimeInterval(job.spec.deadlineSeconds ?? JobDeadline.autoSeconds))
            }
        }
    }
}
