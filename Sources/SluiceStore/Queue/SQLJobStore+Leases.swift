public import Foundation
import SluiceCore

/// Claims, leases and outcomes: the operations workers call, each one transaction.
extension SQLJobStore {
    public func claim(owner: String, limit: Int, allowance: ClaimAllowance, leaseDuration: Double, now: Date) async throws -> ClaimedBatch?
    {
        guard limit > 0, allowance.allowsAny else { return nil }
        let specs = self.specs
        let lockJob = database.lockClause
        let skipLocked = database.skipLocked("i")
        // A claim that changed nothing wakes nobody: an idle worker waiting for a commit would
        // claim again at once, and every idle worker of the process with it.
        let (batch, paused) = try await write(wakes: false) { tx -> (ClaimedBatch?, paused: Bool) in
            // A handful of candidates: a job can have pending items that are all blocked (their
            // group is busy, or they wait out a back-off), and then the next job is tried. A job
            // whose items go to a provider's batch API for now is not one.
            let candidates = try Self.claimCandidates(
                tx, where: "(jobs.batch_until IS NULL OR jobs.batch_until <= ?)", [SQLValue(now)])
            let take = ClaimTake(
                owner: owner, leaseUntil: now + leaseDuration, now: now, lockJob: lockJob, skipLocked: skipLocked, specs: specs)
            return try Self.claimFirst(tx, candidates: candidates, take: take) { candidate in
                let cap = allowance.cap(provider: try candidate.optionalText("provider"))
                if let cap, cap <= 0 { return nil }
                let calls = min(limit, cap ?? limit)
                return min(
                    calls.multipliedReportingOverflow(by: try candidate.int("items_per_request")).partialValue,
                    try candidate.int("batch_size"))
            }
        }
        if batch != nil || paused { commits.wakeAll() }
        return batch
    }

    /// A handful of claimable jobs, in the order claims serve them: the owner furthest behind in
    /// the fair share first (its pass, see ``claimFirst(_:candidates:take:count:)``), then, among
    /// one owner's jobs, the higher priority, the nearer deadline, the one served longest ago.
    /// Each row carries its key's weight and quota for the claim to apply.
    static func claimCandidates(_ tx: any SQLTransaction, where condition: String, _ arguments: [SQLValue]) throws -> [SQLRow] {
        try tx.rows(
            """
            SELECT jobs.seq, jobs.id, jobs.owner, jobs.batch_size, jobs.items_per_request, jobs.provider, jobs.key_id,
            COALESCE(keys.weight, 1) AS weight, keys.tokens_per_day, keys.tokens_per_month, keys.cost_micros_per_day,
            keys.cost_micros_per_month FROM jobs
            LEFT JOIN owners ON owners.owner = jobs.owner
            LEFT JOIN api_keys AS keys ON keys.id = jobs.key_id
            WHERE jobs.status IN (\(JobStatus.claimable.sqlList)) AND jobs.pending > 0 AND \(condition)
            ORDER BY COALESCE(owners.served_seq, 0), jobs.priority DESC, jobs.expires_at IS NULL, jobs.expires_at, jobs.served_seq,
            jobs.seq LIMIT 16
            """, arguments)
    }

    /// How far one call moves its owner's pass at weight 1; weight `w` moves it `1/w` as far,
    /// so an owner of weight 3 is served three calls for every one of an owner of weight 1.
    static let passPerCall: Int64 = 1_000_000

    /// How a claim leases what it takes, and what it needs to read the job back.
    struct ClaimTake {
        var owner: String
        var leaseUntil: Date
        var now: Date
        var lockJob: String
        var skipLocked: String
        var specs: ParsedSpecs
    }

    /// Takes items from the first of `candidates` that has any to give, `count` of them (`nil`:
    /// skip the job): the job locked and still claimable, its budget's and its key's quota's say,
    /// the items picked and leased, the job's counts and its owner's pass moved on. Whether a
    /// budget or a quota paused a job.
    ///
    /// The fair share is stride scheduling: each owner has a pass (`owners.served_seq`), the
    /// owner with the lowest pass is served first, and serving moves the pass by the calls taken
    /// over the weight. An owner that comes back after a pause joins at the lowest pass of those
    /// with work (``joinFairShare(_:seq:greatest:)``): it gets no credit for the time it had none.
    static func claimFirst(_ tx: any SQLTransaction, candidates: [SQLRow], take: ClaimTake, count: (SQLRow) throws -> Int?) throws
        -> (ClaimedBatch?, paused: Bool)
    {
        var paused = false
        // Taken before the first job is locked: each round trip made under the lock is one
        // that the job's outcome commits wait for. Not taken when no candidate's provider has
        // room, so such a claim writes nothing; one that finds nothing after all leaves a gap,
        // which only orders.
        var served: Int64?
        for candidate in candidates {
            let seq = try candidate.int64("seq")
            guard var count = try count(candidate) else { continue }
            let order = try served ?? tx.nextValue(of: "served_order")
            served = order
            // Locks the job, and checks it is still claimable now that it is ours.
            guard
                let locked = try tx.row(
                    """
                    SELECT seq, prompt_tokens + completion_tokens AS tokens, cost_micros, budget_tokens, budget_cost_micros,
                    succeeded, failed, cached, running FROM jobs
                    WHERE seq = ? AND status IN (\(JobStatus.claimable.sqlList)) AND pending > 0 \(take.lockJob)
                    """, [.int(seq)])
            else { continue }
            switch try budgetDecision(locked, requested: count) {
            case .claim(let allowed): count = allowed
            case .wait: continue
            case .pause(let reason):
                try tx.execute(
                    "UPDATE jobs SET status = \(JobStatus.paused.sql), status_reason = ? WHERE seq = ? AND status IN (\(JobStatus.claimable.sqlList))",
                    [.text(reason), .int(seq)])
                paused = true
                continue
            }
            switch try quotaDecision(tx, candidate: candidate, locked: locked, requested: count, now: take.now) {
            case .claim(let allowed): count = allowed
            case .wait: continue
            case .pause(let reached):
                try tx.execute(
                    """
                    UPDATE jobs SET status = \(JobStatus.paused.sql), status_reason = ?, quota_until = ?
                    WHERE seq = ? AND status IN (\(JobStatus.claimable.sqlList))
                    """, [.text(reached.reason), SQLValue(reached.until), .int(seq)])
                paused = true
                continue
            }
            // An item of a group waits while an earlier one is pending or running; rows another
            // claimer holds are skipped, not waited for. The pick is a CTE so that PostgreSQL
            // runs it (and its LIMIT) once, never again per row of the UPDATE.
            let rows = try tx.rows(
                """
                WITH picked AS (
                    SELECT i.id FROM items AS i
                    WHERE i.job_seq = ? AND i.status = \(ItemStatus.pending.sql) AND i.available_at <= ?
                    AND (i.group_key IS NULL OR NOT EXISTS (
                        SELECT 1 FROM items AS g
                        WHERE g.job_seq = i.job_seq AND g.group_key = i.group_key
                        AND ((g.idx < i.idx AND g.status = \(ItemStatus.pending.sql)) OR g.status = \(ItemStatus.running.sql))))
                    ORDER BY i.idx LIMIT ? \(take.skipLocked))
                UPDATE items SET status = \(ItemStatus.running.sql), attempts = attempts + 1, lease_owner = ?, lease_expires_at = ?, started_at = ?
                WHERE id IN (SELECT id FROM picked) AND status = \(ItemStatus.pending.sql) RETURNING \(StoreRows.itemColumns)
                """,
                [.int(seq), SQLValue(take.now), SQLValue(count), .text(take.owner), SQLValue(take.leaseUntil), SQLValue(take.now)])
            guard !rows.isEmpty else { continue }
            // The worker reads the job's spec and status, never its error list: not fetched.
            guard
                let jobRow = try tx.row(
                    """
                    UPDATE jobs SET pending = pending - ?, running = running + ?, status = \(JobStatus.running.sql),
                    started_at = COALESCE(started_at, ?), served_seq = ? WHERE seq = ? RETURNING \(StoreRows.jobColumns)
                    """, [SQLValue(rows.count), SQLValue(rows.count), SQLValue(take.now), .int(order), .int(seq)])
            else { throw StoreError.corrupt("job \(seq) vanished while claimed") }
            let job = try StoreRows.job(jobRow, errors: [], specs: take.specs)
            // The owner's pass moves by the calls taken over its key's weight: the fair share is of
            // calls, weighed (stride scheduling).
            let perRequest = max(1, try candidate.int("items_per_request"))
            let calls = Int64((rows.count + perRequest - 1) / perRequest)
            let stride = calls * (passPerCall / Int64(max(1, min(try candidate.int("weight"), APIKeyRecord.maxWeight))))
            try tx.execute(
                """
                INSERT INTO owners (owner, served_seq) VALUES (?, ?)
                ON CONFLICT (owner) DO UPDATE SET served_seq = owners.served_seq + excluded.served_seq
                """, [.text(try candidate.text("owner")), .int(stride)])
            let jobID = try candidate.text("id")
            let items = try rows.map { try StoreRows.item($0, jobID: jobID) }.sorted { $0.index < $1.index }
            return (ClaimedBatch(job: job, items: items, leaseExpiresAt: take.leaseUntil), paused)
        }
        return (nil, paused)
    }

    public func extendLeases(itemIDs: [Int64], owner: String, until: Date) async throws -> Set<Int64> {
        guard !itemIDs.isEmpty else { return [] }
        return try await write { tx in
            var held: Set<Int64> = []
            for slice in SQLList.slices(itemIDs) {
                for row in try tx.rows(
                    """
                    UPDATE items SET lease_expires_at = ?
                    WHERE id IN (\(SQLList.marks(slice.count))) AND status = \(ItemStatus.running.sql) AND lease_owner = ? RETURNING id
                    """, [SQLValue(until)] + slice.map(SQLValue.int) + [.text(owner)])
                {
                    held.insert(try row.int64("id"))
                }
            }
            return held
        }
    }

    public func release(itemIDs: [Int64], owner: String, now: Date) async throws {
        guard !itemIDs.isEmpty else { return }
        try await takeBack(
            where: "id IN (\(SQLList.marks(itemIDs.count))) AND lease_owner = ?", itemIDs.map(SQLValue.int) + [.text(owner)], refund: true,
            reason: nil, now: now)
    }

    public func leaseOwners() async throws -> [String] {
        try await read { tx in
            try tx.rows("SELECT DISTINCT lease_owner FROM items WHERE status = \(ItemStatus.running.sql) AND lease_owner IS NOT NULL", [])
                .map {
                    try $0.text("lease_owner")
                }
        }
    }

    public func releaseLeases(owner: String, reason: String, now: Date) async throws -> Int {
        try await takeBack(where: "lease_owner = ?", [.text(owner)], refund: false, reason: reason, now: now)
    }

    public func reclaimExpiredLeases(now: Date) async throws -> Int {
        try await takeBack(where: "lease_expires_at < ?", [SQLValue(now)], refund: false, reason: "the worker's lease expired", now: now)
    }

    public func releaseAllLeases(jobID: String, now: Date) async throws -> Int {
        try await takeBack(
            where: "job_seq = (SELECT seq FROM jobs WHERE id = ?)", [.text(jobID)], refund: false,
            reason: "the previous run stopped before this item finished", now: now)
    }

    // MARK: - Shared pieces

    /// What the job's caps allow a claim of `requested` items, from its locked row: the
    /// tighter of the token and the cost check (see ``BudgetCheck``).
    static func budgetDecision(_ row: SQLRow, requested: Int) throws -> BudgetCheck.Decision {
        let finished = try row.int("succeeded") - row.int("cached") + row.int("failed")
        let running = try row.int("running")
        var checks: [BudgetCheck] = []
        if let cap = try row.optionalInt64("budget_tokens") {
            checks.append(BudgetCheck(spent: try row.int64("tokens"), cap: cap, finished: finished, running: running, unit: .tokens))
        }
        if let cap = try row.optionalInt64("budget_cost_micros") {
            checks.append(BudgetCheck(spent: try row.int64("cost_micros"), cap: cap, finished: finished, running: running, unit: .usd))
        }
        var decision = BudgetCheck.Decision.claim(requested)
        for check in checks {
            switch (decision, check.decide(requested: requested)) {
            case (.pause, _): break
            case (_, .pause(let reason)): decision = .pause(reason)
            case (.wait, _), (_, .wait): decision = .wait
            case (.claim(let a), .claim(let b)): decision = .claim(min(a, b))
            }
        }
        return decision
    }

    /// One outcome in the `VALUES` of ``record(_:owner:now:)``, typed so PostgreSQL need not guess.
    static let outcomeRow = """
        (CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS DOUBLE PRECISION), CAST(? AS BIGINT), \
        CAST(? AS DOUBLE PRECISION), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS INTEGER), CAST(? AS INTEGER), \
        CAST(? AS INTEGER), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS BIGINT))
        """

    /// What a transaction needs to know of a locked job.
    /// Brings the owner of job `seq` into the fair share as its job becomes claimable: an owner
    /// with no other claimable work starts at the lowest pass of the owners that have some (so it
    /// is served next, once, and then takes its turns), never below its own.
    static func joinFairShare(_ tx: any SQLTransaction, seq: Int64, greatest: String) throws {
        try tx.execute(
            """
            INSERT INTO owners (owner, served_seq)
            SELECT joining.owner, COALESCE((
                SELECT MIN(o.served_seq) FROM jobs AS j JOIN owners AS o ON o.owner = j.owner
                WHERE j.status IN (\(JobStatus.claimable.sqlList)) AND j.pending > 0 AND j.owner <> joining.owner), 0)
            FROM jobs AS joining WHERE joining.seq = ? AND NOT EXISTS (
                SELECT 1 FROM jobs AS mine WHERE mine.owner = joining.owner AND mine.seq <> joining.seq
                AND mine.status IN (\(JobStatus.claimable.sqlList)) AND mine.pending > 0)
            ON CONFLICT (owner) DO UPDATE SET served_seq = \(greatest)
            """, [.int(seq)])
    }

    /// What the candidate's key's quota allows a claim of `requested` items (only a key with a
    /// quota reads the usage ledger): what the key's jobs spent today and this month, and what
    /// this job's finished items cost each, from its locked row (see ``KeyQuota/decide(_:perItem:running:requested:now:)``).
    static func quotaDecision(_ tx: any SQLTransaction, candidate: SQLRow, locked: SQLRow, requested: Int, now: Date) throws
        -> KeyQuota.Decision
    {
        let quota = KeyQuota(
            tokensPerDay: try candidate.optionalInt64("tokens_per_day"), tokensPerMonth: try candidate.optionalInt64("tokens_per_month"),
            costMicrosPerDay: try candidate.optionalInt64("cost_micros_per_day"),
            costMicrosPerMonth: try candidate.optionalInt64("cost_micros_per_month"))
        guard !quota.isEmpty, let keyID = try candidate.optionalText("key_id") else { return .claim(requested) }
        let spent = try SQLUsageStore.spent(tx, in: UsageWindow(now), keyID: keyID)[keyID] ?? KeyQuota.Spent()
        let finished = try locked.int("succeeded") - locked.int("cached") + locked.int("failed")
        let perItem =
            finished > 0
            ? KeyQuota.PerItem(
                tokens: Double(try locked.int64("tokens")) / Double(finished),
                costMicros: Double(try locked.int64("cost_micros")) / Double(finished)) : KeyQuota.PerItem()
        return quota.decide(spent, perItem: perItem, running: try locked.int("running"), requested: requested, now: now)
    }

    struct LockedJob {
        var status: JobStatus
        var maxAttempts: Int
        var brake: FailureBrake?
        var recentOutcomes: String
        /// It has a token or cost budget: a claim may be waiting for its running calls to end.
        var budgeted = false
        /// Whose calls these are in the usage ledger: the job's owner and key.
        var owner: String
        var keyID: String?
    }

    /// Locks the jobs of these items, in `seq` order, and returns what deciding their items
    /// needs: each job's status and attempts, and which job each item is of.
    static func lockJobs(_ tx: any SQLTransaction, itemIDs: [Int64], lockClause: String) throws -> (
        jobs: [Int64: LockedJob], jobOfItem: [Int64: Int64]
    ) {
        var jobs: [Int64: LockedJob] = [:]
        var jobOfItem: [Int64: Int64] = [:]
        for slice in SQLList.slices(itemIDs) {
            for row in try tx.rows("SELECT id, job_seq FROM items WHERE id IN (\(SQLList.marks(slice.count)))", slice.map(SQLValue.int)) {
                jobOfItem[try row.int64("id")] = try row.int64("job_seq")
            }
        }
        for slice in SQLList.slices(Set(jobOfItem.values).sorted()) {
            for row in try tx.rows(
                """
                SELECT seq, status, max_attempts, brake_window, brake_rate, recent_outcomes, budget_tokens, budget_cost_micros, owner, key_id
                FROM jobs
                WHERE seq IN (\(SQLList.marks(slice.count))) ORDER BY seq \(lockClause)
                """,
                slice.map(SQLValue.int))
            {
                guard let status = JobStatus(rawValue: try row.text("status")) else { throw StoreError.corrupt("status of a job") }
                var brake: FailureBrake?
                if let window = try row.optionalInt64("brake_window"), let rate = try row.optionalDouble("brake_rate") {
                    brake = FailureBrake(window: Int(window), rate: rate)
                }
                jobs[try row.int64("seq")] = LockedJob(
                    status: status, maxAttempts: try row.int("max_attempts"), brake: brake, recentOutcomes: try row.text("recent_outcomes"),
                    budgeted: try row.optionalInt64("budget_tokens") != nil || row.optionalInt64("budget_cost_micros") != nil,
                    owner: try row.text("owner"), keyID: try row.optionalText("key_id"))
            }
        }
        return (jobs, jobOfItem)
    }

    /// Takes running items matching `condition` back from their holders, each by a guarded
    /// change (still running, same holder, still matching): to `pending` normally, with the
    /// attempt given back when `refund` says no call was made; see ``ItemLifecycle/takenBack``.
    func takeBack(where condition: String, _ arguments: [SQLValue], refund: Bool, reason: String?, now: Date) async throws -> Int {
        let lockJob = database.lockClause
        return try await write(wakingIf: { $0 > 0 }) { tx in
            let candidates = try tx.rows(
                "SELECT id, job_seq, idx, attempts, lease_owner FROM items WHERE status = \(ItemStatus.running.sql) AND \(condition)",
                arguments)
            guard !candidates.isEmpty else { return 0 }
            let jobs = try Self.lockJobs(tx, itemIDs: try candidates.map { try $0.int64("id") }, lockClause: lockJob).jobs
            var changes: [Int64: CountChange] = [:]
            for candidate in candidates {
                let seq = try candidate.int64("job_seq")
                guard let job = jobs[seq] else { continue }
                let status = ItemLifecycle.takenBack(
                    attempts: try candidate.int("attempts"), maxAttempts: job.maxAttempts, jobStatus: job.status, refund: refund)
                var message = reason
                if status == .failed { message = "\(reason ?? "interrupted") on the last of \(job.maxAttempts) attempts" }
                if status == .cancelled { message = reason ?? "cancelled" }
                guard
                    try tx.row(
                        """
                        UPDATE items SET status = ?, error = COALESCE(?, error), finished_at = ?, lease_owner = NULL,
                        lease_expires_at = NULL, attempts = attempts - ?
                        WHERE id = ? AND status = \(ItemStatus.running.sql) AND lease_owner = ? AND \(condition) RETURNING id
                        """,
                        [
                            .text(status.rawValue), SQLValue(message), status.isFinal ? SQLValue(now) : .null, SQLValue(refund ? 1 : 0),
                            candidate["id"], candidate["lease_owner"],
                        ] + arguments) != nil
                else { continue }
                var change = changes[seq, default: CountChange()]
                change.finishRunning(as: status)
                if status == .failed, let message { change.errors.append(JobErrorEntry(item: try candidate.int("idx"), message: message)) }
                changes[seq] = change
            }
            for seq in changes.keys.sorted() { try Self.apply(changes[seq]!, to: seq, tx, now: now) }
            return changes.values.reduce(0) { $0 - $1.running }
        }
    }
}
