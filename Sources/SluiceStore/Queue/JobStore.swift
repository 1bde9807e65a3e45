public import Foundation
public import SluiceCore

/// The queue: the durable state of every job and item, shared by all processes that run work —
/// ingest leases, claims, outcomes, leases and control. The small stores beside it (files,
/// keys and sessions, the webhook outbox, uploads, idempotency keys, providers' pace) have
/// protocols of their own, so a caller takes only the one it needs.
///
/// The store — not the caller — decides every state change: claims, lease checks, counts
/// and finalisation happen inside one transaction each, so two workers, or a worker and the
/// API, can never disagree. Every time is passed in, so tests control the clock.
///
/// One protocol, a driver per database, and one conformance suite that runs against each.
public protocol JobStore: UpstreamBatchStore {
    /// Woken after each change this store commits in this process, so a reader waits for a
    /// change instead of polling for it; changes made by other processes still need a poll.
    var commits: WakeSignal { get }
    /// Woken after a commit of this process that may have made work to claim — a job read, an
    /// item back to pending, a group's next item free, a reduce round begun — so an idle worker
    /// waits for work instead of polling; not after outcomes that only finish items, which
    /// commit as often as calls end.
    var newWork: WakeSignal { get }

    /// Creates a job in `validating`; its items are appended by the process that leases its ingest.
    func createJob(_ job: NewJob, now: Date) async throws -> Job

    /// Leases the ingest of a `validating` job nobody reads (never leased, or its lease expired:
    /// the reader died) to `owner` until `now + leaseDuration`: of the user with the fewest
    /// uploads being read, the oldest — so one user's pile of uploads never holds back another's
    /// first. One process reads an upload; another takes it over only when the lease runs out.
    func leaseIngest(owner: String, leaseDuration: Double, now: Date) async throws -> Job?

    /// Takes the ingest of one `validating` job for `owner` whoever held it: for `sluice run`,
    /// which owns its job outright. A previous holder's appends are refused from then on.
    func takeIngest(jobID: String, owner: String, leaseDuration: Double, now: Date) async throws -> Job

    /// Pushes out `owner`'s ingest lease; `false` when the lease is no longer `owner`'s (or the
    /// job left `validating`), and the reader must stop.
    func extendIngest(jobID: String, owner: String, until: Date) async throws -> Bool

    /// Appends items to a job that is still `validating` and whose ingest `owner` holds, in one
    /// transaction per call.
    func appendItems(jobID: String, owner: String, items: [NewItem]) async throws

    /// Ends validation: `validating` → `queued`, with every appended item pending.
    func finishValidation(jobID: String, owner: String, now: Date) async throws -> Job

    /// Ends validation with errors: removes any appended items and fails the job, so that
    /// no item of a malformed upload is ever dispatched.
    func failValidation(jobID: String, owner: String, errors: [JobErrorEntry], now: Date) async throws -> Job

    /// Drops items appended by an ingest that did not finish, so the ingest can start over.
    func restartValidation(jobID: String, owner: String) async throws

    func job(id: String) async throws -> Job?

    /// The newest job created with this fingerprint (see ``Job/fingerprint``).
    func job(fingerprint: String) async throws -> Job?

    /// Leases up to `limit` model calls' worth of pending items of one job — `limit` items, or
    /// `limit × items_per_request` for a job that packs rows, never more than its `batch_size` —
    /// to `owner` until `now + leaseDuration`, and counts an attempt for each. Workers pass their
    /// free call slots, so a claim never hoards what another worker could start.
    ///
    /// Fair: the job is taken from the owner served least recently, then that owner's job
    /// served least recently, so a small job submitted after a huge one runs at once. An item
    /// of a group is claimable only when no earlier item of its group is pending or running.
    ///
    /// `allowance` caps the items taken for a job by the job's provider (see ``ClaimAllowance``):
    /// a worker whose provider is booked a second ahead claims none of its jobs' items, so they
    /// stay pending for whoever can start them — or for the next claim, in fair order.
    func claim(owner: String, limit: Int, allowance: ClaimAllowance, leaseDuration: Double, now: Date) async throws -> ClaimedBatch?

    /// Pushes out the lease of those `itemIDs` that `owner` still holds; returns their ids.
    func extendLeases(itemIDs: [Int64], owner: String, until: Date) async throws -> Set<Int64>

    /// Records outcomes of items leased to `owner`, in one transaction. An item whose lease
    /// was lost (expired and reclaimed) is left alone: the newer owner's result wins.
    /// Returns the ids that were recorded, and the jobs these outcomes finished.
    ///
    /// A validated answer's cache key stays on its item; the job's answers go to the result
    /// cache in the transaction that finishes it (so a job seen finished has its answers there).
    func record(_ outcomes: [ItemOutcome], owner: String, now: Date) async throws -> RecordedOutcomes

    /// Gives leased items back without an outcome (shutdown, pause, cancel before the call
    /// started). The attempt is refunded, since no model call was made.
    func release(itemIDs: [Int64], owner: String, now: Date) async throws

    /// The distinct owners of running items' leases.
    func leaseOwners() async throws -> [String]

    /// Takes every item leased to `owner` back, as a lost lease does (the attempt stays spent:
    /// the call may have been made), with `reason` as its error. For a worker that knows `owner`
    /// is dead — a process of its own machine that no longer exists. Returns how many.
    func releaseLeases(owner: String, reason: String, now: Date) async throws -> Int

    /// Returns items whose lease expired to `pending` (or fails them when their attempts are
    /// spent). Returns how many were reclaimed.
    func reclaimExpiredLeases(now: Date) async throws -> Int

    /// Stops every unfinished job whose ``Job/expiresAt`` has passed: pending items are
    /// cancelled at once, and the job ends `expired` when its in-flight items come back.
    /// Returns the ids of the jobs it stopped.
    func expireOverdueJobs(now: Date) async throws -> [String]

    /// Returns every running item of a job to pending at once; for `sluice run`, which owns
    /// its job outright and so knows a previous run's leases are dead.
    func releaseAllLeases(jobID: String, now: Date) async throws -> Int

    /// Cancels pending items now; the job is `cancelled` once in-flight items come back.
    func cancel(jobID: String, now: Date) async throws -> Job

    /// Stops claims until ``resume(jobID:budget:maxReplyTokens:now:)``; items in flight finish normally.
    func pause(jobID: String, reason: String?, now: Date) async throws -> Job

    /// Lets a paused job go on; a `budget` replaces its caps (a budget pause needs a higher one,
    /// or it pauses again at the next claim), `maxReplyTokens` its reply-token cap (a job
    /// paused at its cap needs a higher one), and the failure brake starts counting afresh.
    func resume(jobID: String, budget: Budget?, maxReplyTokens: Int?, now: Date) async throws -> Job

    /// The open jobs (queued, running, paused, cancelling) by owner and priority, with their
    /// pending and running items: the queues the team view shows.
    func queues() async throws -> [QueueRow]
    /// Deletes up to `limit` jobs that finished before `finishedBefore`, with their items,
    /// errors and activity, each in the transaction that removes its row (rows another process is
    /// deleting are skipped); returns their ids, for their files to be removed.
    func deleteFinishedJobs(finishedBefore: Date, limit: Int) async throws -> [String]
    /// Resumes the jobs a key's quota paused whose window has rolled (``KeyQuota``); returns
    /// their ids. A job whose key is still over a limit pauses again at its next claim.
    func resumeQuotaPaused(now: Date) async throws -> [String]
    /// Sets a job's priority, whatever its status: its next claims order by it.
    func setPriority(jobID: String, priority: JobPriority) async throws -> Job

    /// Says what an unfinished job is doing (a step and a line for the user); a finished job is
    /// left as it is.
    func setStage(jobID: String, stage: JobStage?, message: String?) async throws

    /// The combined result of a map-then-reduce job: the output of its last round's single
    /// call, once that call succeeded; `nil` before then, or for a job with no reduce step.
    func result(jobID: String) async throws -> JSONValue?

    /// Validated outputs of earlier identical requests, by cache key, kept at or after
    /// `notBefore`; keys with none are absent.
    func cachedOutputs(keys: [String], notBefore: Date) async throws -> [String: CachedOutput]

    /// The database server's clock: what every process's leases are measured against (see
    /// `DatabaseClock`).
    func databaseTime() async throws -> Date

    /// The bytes `owner` keeps on the server: their jobs' uploads, their files and the parts of
    /// their uploads in progress — what their storage quota counts.
    func storedBytes(owner: String) async throws -> Int

    /// The size of a job's generated file (`kind`: "output", "errors") measured at `etag`;
    /// `nil` when it was not measured at that etag.
    func outputSize(jobID: String, kind: String, etag: String) async throws -> Int?

    /// Keeps the size of a job's generated file as measured at `etag`.
    func setOutputSize(jobID: String, kind: String, etag: String, bytes: Int) async throws

    /// Removes cache entries kept before `cutoff`; returns how many went.
    func removeCacheEntries(before cutoff: Date) async throws -> Int

    /// A page of a job's items in input order, after index `afterIndex`.
    func items(jobID: String, status: ItemStatus?, afterIndex: Int, limit: Int) async throws -> [Item]

    /// The succeeded items of a group before `beforeIndex`, in order: the history a grouped
    /// item's prompt carries.
    func groupHistory(jobID: String, groupKey: String, beforeIndex: Int) async throws -> [Item]

    /// Statuses of the given jobs, for workers deciding whether to start a call.
    func statuses(jobIDs: [String]) async throws -> [String: JobStatus]

    // MARK: Serving the API

    /// A page of jobs, newest first: those of `query.owner` (everyone's when `nil`), after the
    /// job `query.after` (a cursor), optionally of one status and only batches or only native jobs.
    func jobs(_ query: JobQuery) async throws -> [Job]

    /// Puts a finished job's failed items back to pending with fresh attempts; the job runs again
    /// (one whose deadline has passed gets a new one of the same length).
    func retryFailed(jobID: String, now: Date) async throws -> Job

    /// Removes a job and its items. Workers holding its items find their leases gone.
    func deleteJob(jobID: String) async throws

    /// Jobs per status and the items of unfinished jobs per status, for `/metrics`.
    func census() async throws -> StoreCensus

    /// Throws unless the database answers and its schema is fully migrated.
    func checkReady() async throws

    /// Items finished and items throttled per ``JobActivity/bucketSeconds``, oldest first.
    func activity(jobID: String) async throws -> [JobActivity.Sample]
}

extension JobStore {
    public func resume(jobID: String, now: Date) async throws -> Job {
        try await resume(jobID: jobID, budget: nil, maxReplyTokens: nil, now: now)
    }

    /// A claim capped only by `limit`.
    public func claim(owner: String, limit: Int, leaseDuration: Double, now: Date) async throws -> ClaimedBatch? {
        try await claim(owner: owner, limit: limit, allowance: ClaimAllowance(), leaseDuration: leaseDuration, now: now)
    }

    /// Every item of a job, in input order, a page of `pageSize` at a time: how every export
    /// reads a job, never holding more than a page.
    public func forEachItemPage(jobID: String, pageSize: Int, _ body: ([Item]) async throws -> Void) async throws {
        var after = -1
        while true {
            let page = try await items(jobID: jobID, status: nil, afterIndex: after, limit: pageSize)
            guard let last = page.last else { return }
            try await body(page)
            after = last.index
        }
    }
}
