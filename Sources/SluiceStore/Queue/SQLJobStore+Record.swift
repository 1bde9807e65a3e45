public import Foundation
public import SluiceCore

/// Recording outcomes: one transaction in five named steps — decide each outcome's row,
/// write the rows the caller still leases, add the job's activity and the calls' usage to the
/// ledger, then apply each job's counts (with its failure brake, and its end when nothing is left).
extension SQLJobStore {
    public func record(_ outcomes: [ItemOutcome], owner: String, now: Date) async throws -> RecordedOutcomes {
        guard !outcomes.isEmpty else { return RecordedOutcomes() }
        let lockJob = database.lockClause
        // Wakes an idle claimer only when these outcomes may have made work to claim: outcomes
        // commit as often as calls end, and an idle claim loop woken by each would ask the
        // database for nothing a dozen times a second.
        let (result, freesWork) = try await write(wakes: false) { tx -> (RecordedOutcomes, freesWork: Bool) in
            let locked = try Self.lockJobs(tx, itemIDs: outcomes.map(\.itemID), lockClause: lockJob)
            let decided = Self.decide(outcomes, jobs: locked, now: now)
            var tally = try Self.writeOutcomes(decided, owner: owner, jobs: locked.jobs, tx)
            try Self.addActivity(tally.activity, tx, now: now)
            try Self.addUsage(tally.usage, tx, now: now)
            let result = try Self.applyCounts(&tally, jobs: locked.jobs, tx, now: now)
            return (result, tally.freesWork)
        }
        commits.wakeAll()
        if freesWork { newWork.wakeAll() }
        return result
    }

    /// An outcome with the status it leaves its item in and its row of values for the update.
    struct DecidedOutcome {
        var outcome: ItemOutcome
        var seq: Int64
        var status: ItemStatus
        var values: [SQLValue]
    }

    /// What the rows written change, per job.
    struct RecordTally {
        var changes: [Int64: CountChange] = [:]
        /// Outcomes that ended items, `s` or `f` each in order, for the failure brake's window.
        var finished: [Int64: String] = [:]
        /// Why a job must pause because an item's reply was cut empty at the job's cap.
        var capped: [Int64: String] = [:]
        var activity: [Int64: JobActivity.Sample] = [:]
        var usage: [UsageKey: UsageSample] = [:]
        var recorded: Set<Int64> = []
        /// Whether an idle claimer may find work because of them.
        var freesWork = false
    }

    /// Step 1: each outcome's new status and row; the last outcome of an item counts, and an
    /// item whose job is not locked (deleted) is skipped.
    static func decide(
        _ outcomes: [ItemOutcome], jobs locked: (jobs: [Int64: LockedJob], jobOfItem: [Int64: Int64]), now: Date
    ) -> [Int64: DecidedOutcome] {
        var decided: [Int64: DecidedOutcome] = [:]
        for outcome in outcomes {
            guard let seq = locked.jobOfItem[outcome.itemID], let job = locked.jobs[seq] else { continue }
            let status = ItemLifecycle.status(after: outcome.result, jobStatus: job.status)
            var output = SQLValue.null
            var error = SQLValue.null
            var notBefore = SQLValue.null
            var refund = 0
            var packSize = SQLValue.null
            var cacheKey = SQLValue.null
            var replyTokens = SQLValue.null
            switch outcome.result {
            case .succeeded(let value):
                output = .text(StoreRows.text(value))
                if !outcome.cached { cacheKey = SQLValue(outcome.cacheKey) }
            case .failed(let message): error = .text(message)
            case .retry(let message, let time):
                (error, notBefore) = (.text(message), SQLValue(time))
            case .deferred(let message, let time):
                (error, notBefore, refund) = (.text(message), SQLValue(time), 1)
            case .repack(let message, let size):
                (error, refund, packSize) = (.text(message), 1, SQLValue(size))
            case .raiseReplyLimit(let message, let tokens):
                (error, refund, replyTokens) = (.text(message), 1, SQLValue(tokens))
            case .capped(let message):
                (error, refund) = (.text(message), 1)
            }
            decided[outcome.itemID] = DecidedOutcome(
                outcome: outcome, seq: seq, status: status,
                values: [
                    .int(outcome.itemID), .text(status.rawValue), output, error, notBefore, SQLValue(status == .pending ? refund : 0),
                    status.isFinal ? SQLValue(now) : .null, SQLValue(outcome.usage.promptTokens),
                    SQLValue(outcome.usage.completionTokens), SQLValue(outcome.model), packSize, SQLValue(outcome.cached ? 1 : 0),
                    SQLValue(outcome.attempt), cacheKey, SQLValue(outcome.usage.cachedTokens), SQLValue(outcome.usage.cacheWriteTokens),
                    SQLValue(outcome.usage.reasoningTokens), SQLValue(outcome.finishReason), replyTokens,
                ])
        }
        return decided
    }

    /// Step 2: writes the rows, many to a statement. The lease and the attempt are in the
    /// `WHERE`: an item another worker now owns, or an answer to an earlier attempt, matches
    /// nothing and counts nowhere.
    static func writeOutcomes(
        _ decided: [Int64: DecidedOutcome], owner: String, jobs: [Int64: LockedJob], _ tx: any SQLTransaction
    ) throws -> RecordTally {
        var tally = RecordTally()
        for slice in SQLList.slices(Array(decided.keys)) {
            let rows = Array(repeating: outcomeRow, count: slice.count).joined(separator: ", ")
            for row in try tx.rows(
                """
                UPDATE items SET status = v.column2, output = v.column3, error = v.column4,
                available_at = COALESCE(v.column5, items.available_at), attempts = items.attempts - v.column6,
                finished_at = v.column7, lease_owner = NULL, lease_expires_at = NULL,
                prompt_tokens = items.prompt_tokens + v.column8, completion_tokens = items.completion_tokens + v.column9,
                model = COALESCE(v.column10, items.model), pack_size = COALESCE(v.column11, items.pack_size), cached = v.column12,
                cache_key = v.column14, cached_tokens = items.cached_tokens + v.column15,
                cache_write_tokens = items.cache_write_tokens + v.column16, reasoning_tokens = items.reasoning_tokens + v.column17,
                finish_reason = COALESCE(v.column18, items.finish_reason), reply_tokens = COALESCE(v.column19, items.reply_tokens)
                FROM (VALUES \(rows)) AS v
                WHERE items.id = v.column1 AND items.status = \(ItemStatus.running.sql) AND items.lease_owner = ?
                AND (v.column13 IS NULL OR items.attempts = v.column13) RETURNING items.id, items.idx, items.group_key
                """, slice.flatMap { decided[$0]!.values } + [.text(owner)])
            {
                let id = try row.int64("id")
                guard let decision = decided[id] else { continue }
                let (outcome, seq, status) = (decision.outcome, decision.seq, decision.status)
                // Back to pending, the end of a group's item (its next one may go now), or a call
                // of a job whose budget may have held its next claim back.
                let grouped = try row.optionalText("group_key") != nil
                tally.freesWork = tally.freesWork || status == .pending || grouped || jobs[seq]?.budgeted == true
                var change = tally.changes[seq, default: CountChange()]
                change.finishRunning(as: status)
                change.usage = change.usage + outcome.usage
                change.calls += outcome.calls
                change.costMicros += outcome.costMicros
                if let provider = outcome.provider, let job = jobs[seq] {
                    let key = UsageKey(owner: job.owner, keyID: job.keyID ?? "", provider: provider, model: outcome.model ?? "")
                    tally.usage[key, default: UsageSample()].add(outcome)
                }
                change.listCostMicros += outcome.listCostMicros
                if outcome.tier == .flex { change.flexCalls += outcome.calls }
                if outcome.tier == .batch { change.batchCalls += outcome.calls }
                if outcome.cached { change.cached += 1 }
                if case .failed(let message) = outcome.result {
                    change.errors.append(JobErrorEntry(item: try row.int("idx"), message: message))
                }
                if status == .succeeded || status == .failed {
                    tally.finished[seq, default: ""] += status == .failed ? "f" : "s"
                    tally.activity[seq, default: JobActivity.Sample()].finished += 1
                }
                if case .deferred = outcome.result { tally.activity[seq, default: JobActivity.Sample()].throttled += 1 }
                if case .capped(let message) = outcome.result, status == .pending {
                    tally.capped[seq] = "item \(try row.int("idx")): \(message)"
                }
                tally.changes[seq] = change
                tally.recorded.insert(id)
            }
        }
        return tally
    }

    /// Step 3: the jobs' per-minute activity (items finished, calls throttled), for the chart.
    static func addActivity(_ activity: [Int64: JobActivity.Sample], _ tx: any SQLTransaction, now: Date) throws {
        for (seq, sample) in activity.sorted(by: { $0.key < $1.key }) {
            try tx.execute(
                """
                INSERT INTO job_activity (job_seq, bucket, finished, throttled) VALUES (?, ?, ?, ?)
                ON CONFLICT (job_seq, bucket) DO UPDATE SET finished = job_activity.finished + excluded.finished,
                throttled = job_activity.throttled + excluded.throttled
                """, [.int(seq), .int(JobActivity.bucket(of: now)), SQLValue(sample.finished), SQLValue(sample.throttled)])
        }
    }

    /// Whose usage a ledger row is, besides its day.
    struct UsageKey: Hashable, Comparable {
        var owner: String
        var keyID: String
        var provider: String
        var model: String

        static func < (a: Self, b: Self) -> Bool {
            (a.owner, a.keyID, a.provider, a.model) < (b.owner, b.keyID, b.provider, b.model)
        }
    }

    /// What calls added to a ledger row.
    struct UsageSample {
        var calls = 0
        var usage = TokenUsage()
        var costMicros: Int64 = 0

        mutating func add(_ outcome: ItemOutcome) {
            calls += outcome.calls
            usage = usage + outcome.usage
            costMicros += outcome.costMicros
        }
    }

    /// Step 3b: the calls' usage, added to the ledger's row for today's UTC day (in key order,
    /// the order every transaction takes the rows' locks in). It is written from the same
    /// outcomes as the jobs' counts, so the ledger adds up to the jobs' usage exactly.
    static func addUsage(_ usage: [UsageKey: UsageSample], _ tx: any SQLTransaction, now: Date) throws {
        guard !usage.isEmpty else { return }
        let day = UsageWindow(now).day
        for (key, sample) in usage.sorted(by: { $0.key < $1.key }) {
            try tx.execute(
                """
                INSERT INTO usage_days (day, owner, key_id, provider, model, calls, prompt_tokens, completion_tokens, cached_tokens, cost_micros)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (day, owner, key_id, provider, model) DO UPDATE SET calls = usage_days.calls + excluded.calls,
                prompt_tokens = usage_days.prompt_tokens + excluded.prompt_tokens,
                completion_tokens = usage_days.completion_tokens + excluded.completion_tokens,
                cached_tokens = usage_days.cached_tokens + excluded.cached_tokens, cost_micros = usage_days.cost_micros + excluded.cost_micros
                """,
                [
                    .text(day), .text(key.owner), .text(key.keyID), .text(key.provider), .text(key.model), SQLValue(sample.calls),
                    SQLValue(sample.usage.promptTokens), SQLValue(sample.usage.completionTokens), SQLValue(sample.usage.cachedTokens),
                    .int(sample.costMicros),
                ])
        }
    }

    /// Step 4: each job's counts, in job order (the order every transaction locks jobs in). The
    /// failure brake's window is written with the counts; only a trip costs a statement more.
    /// A job left with nothing to do ends here.
    static func applyCounts(_ tally: inout RecordTally, jobs: [Int64: LockedJob], _ tx: any SQLTransaction, now: Date) throws
        -> RecordedOutcomes
    {
        var result = RecordedOutcomes(ids: tally.recorded)
        for seq in tally.changes.keys.sorted() {
            var change = tally.changes[seq]!
            var pauseReason = tally.capped[seq]
            if let outcomes = tally.finished[seq], let job = jobs[seq], let brake = job.brake {
                let window = FailureWindow.slide(job.recentOutcomes, appending: outcomes, size: brake.window)
                let braked = FailureWindow.pauseReason(window, brake: brake, lastError: change.errors.last?.message)
                pauseReason = pauseReason ?? braked
                change.recentOutcomes = braked == nil ? window : ""
            }
            let applied = try apply(change, to: seq, tx, now: now)
            tally.freesWork = tally.freesWork || applied.drained
            if let finished = applied.finished {
                result.finishedJobs[finished.id] = finished.status
            } else if let pauseReason {
                try tx.execute(
                    "UPDATE jobs SET status = \(JobStatus.paused.sql), status_reason = ? WHERE seq = ? AND status IN (\(JobStatus.claimable.sqlList))",
                    [.text(pauseReason), .int(seq)])
            }
        }
        return result
    }
}
