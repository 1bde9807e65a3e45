import Foundation
import SluiceCore

/// The durable state of every job and item, shared by all processes that run work.
///
/// The store — not the caller — decides every state change: claims, lease checks, counts
/// and finalisation happen inside one transaction each, so two workers, or a worker and the
/// API, can never disagree. Every time is passed in, so tests control the clock.
///
/// One protocol, a driver per database, and one conformance suite that runs against each.
public protocol JobStore: WebhookStore, IdempotencyStore, UploadStore {
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

    /// Stops claims until ``resume(jobID:budget:now:)``; items in flight finish normally.
    func pause(jobID: String, reason: String?, now: Date) async throws -> Job

    /// Lets a paused job go on; a `budget` replaces its caps (a budget pause needs a higher one,
    /// or it pauses again at the next claim), and the failure brake starts counting afresh.
    func resume(jobID: String, budget: Budget?, now: Date) async throws -> Job

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

    /// Puts a finished job's failed items back to pending with fresh attempts; the job runs again.
    func retryFailed(jobID: String, now: Date) async throws -> Job

    /// Removes a job and its items. Workers holding its items find their leases gone.
    func deleteJob(jobID: String) async throws

    /// Jobs per status and the items of unfinished jobs per status, for `/metrics`.
    func census() async throws -> StoreCensus

    /// Throws unless the database answers and its schema is fully migrated.
    func checkReady() async throws

    func createFile(_ file: StoredFile) async throws
    func file(id: String) async throws -> StoredFile?
    /// A page of files of `owner` (everyone's when `nil`) after the file `after`, newest first
    /// or, with `oldestFirst`, oldest first.
    func files(owner: String?, purpose: String?, after: String?, limit: Int, oldestFirst: Bool) async throws -> [StoredFile]
    func deleteFile(id: String) async throws -> Bool
    /// Files whose `expires_at` has passed, oldest first, for the housekeeper to remove.
    func expiredFiles(now: Date, limit: Int) async throws -> [StoredFile]

    func createKey(_ key: APIKeyRecord) async throws
    /// The key whose secret hashes to `hash`, revoked or not.
    func key(hash: String) async throws -> APIKeyRecord?
    func keys() async throws -> [APIKeyRecord]
    /// Revokes by id; returns `false` when no such key exists.
    func revokeKey(id: String, now: Date) async throws -> Bool

    /// Items finished and items throttled per ``JobActivity/bucketSeconds``, oldest first.
    func activity(jobID: String) async throws -> [JobActivity.Sample]

    /// Starts a browser session (and drops the sessions that have expired).
    func createSession(_ session: WebSession, now: Date) async throws
    /// The key a live session was opened with: `nil` when the session is unknown, has expired
    /// or its key has been revoked.
    func sessionKey(hash: String, now: Date) async throws -> APIKeyRecord?
    /// Ends a session (signing out); ending one that is gone is not an error.
    func deleteSession(hash: String) async throws
}

/// A signed-in browser. The cookie carries a random secret; the store keeps only its hash.
public struct WebSession: Sendable, Equatable {
    public var hash: String
    public var keyID: String
    public var createdAt: Date
    public var expiresAt: Date

    public init(hash: String, keyID: String, createdAt: Date, expiresAt: Date) {
        self.hash = hash
        self.keyID = keyID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// A job's pace over its life, for the job page's chart: counted in wall-clock buckets as
/// outcomes are recorded, so drawing it never scans the job's items.
public enum JobActivity {
    public static let bucketSeconds = 5.0

    public struct Sample: Sendable, Equatable {
        /// When the bucket starts.
        public var start: Date
        public var finished: Int
        /// Items sent back to wait because the provider answered their call with 429.
        public var throttled: Int

        public init(start: Date = Date(timeIntervalSince1970: 0), finished: Int = 0, throttled: Int = 0) {
            self.start = start
            self.finished = finished
            self.throttled = throttled
        }
    }

    /// The bucket a moment falls in.
    public static func bucket(of date: Date) -> Int64 { Int64((date.timeIntervalSince1970 / bucketSeconds).rounded(.down)) }
}

/// Which jobs a list asks for.
public struct JobQuery: Sendable {
    /// Native jobs, OpenAI batches, or Anthropic message batches (`msgbatch_…`).
    public enum Kind: Sendable { case any, native, batch, messageBatch }
    public var owner: String?
    public var status: JobStatus?
    public var kind: Kind
    /// The id of the last job of the previous page.
    public var after: String?
    /// The id of the first job of the next page: the jobs just newer than it, newest first.
    public var before: String?
    public var limit: Int

    public init(owner: String?, status: JobStatus? = nil, kind: Kind = .any, after: String? = nil, before: String? = nil, limit: Int) {
        self.before = before
        self.owner = owner
        self.status = status
        self.kind = kind
        self.after = after
        self.limit = limit
    }
}

/// Totals for monitoring, read without scanning items.
public struct StoreCensus: Sendable, Equatable {
    public var jobsByStatus: [JobStatus: Int]
    /// Item counts summed over jobs that are not final, by item status.
    public var openItems: JobCounts

    public init(jobsByStatus: [JobStatus: Int], openItems: JobCounts) {
        self.jobsByStatus = jobsByStatus
        self.openItems = openItems
    }
}

/// An uploaded file of the Batch API (`/v1/files`), kept on disk at `path`.
public struct StoredFile: Sendable, Equatable {
    public var id: String
    public var owner: String
    public var filename: String
    public var purpose: String
    public var bytes: Int
    public var path: String
    public var createdAt: Date
    /// When the file is deleted by itself (`expires_after`); `nil` keeps it until deleted.
    public var expiresAt: Date?

    public init(
        id: String, owner: String, filename: String, purpose: String, bytes: Int, path: String, createdAt: Date, expiresAt: Date? = nil
    ) {
        self.expiresAt = expiresAt
        self.id = id
        self.owner = owner
        self.filename = filename
        self.purpose = purpose
        self.bytes = bytes
        self.path = path
        self.createdAt = createdAt
    }
}

extension StoredFile {
    public func hasExpired(now: Date) -> Bool { expiresAt.map { $0 <= now } ?? false }
}

/// An API key as stored: never the secret, only its SHA-256 and a short prefix to recognise it by.
public struct APIKeyRecord: Sendable, Equatable {
    public var id: String
    public var user: String
    public var isAdmin: Bool
    public var hash: String
    public var prefix: String
    public var createdAt: Date
    public var revokedAt: Date?

    public init(id: String, user: String, isAdmin: Bool, hash: String, prefix: String, createdAt: Date, revokedAt: Date? = nil) {
        self.id = id
        self.user = user
        self.isAdmin = isAdmin
        self.hash = hash
        self.prefix = prefix
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

/// What the creator of a job supplies.
public struct NewJob: Sendable {
    public var id: String
    public var owner: String
    public var name: String
    public var spec: JobSpec
    public var sources: [JobSource]
    public var fingerprint: String?
    public var batch: BatchAttributes?
    public var expiresAt: Date?
    /// The bytes of upload the job keeps (its sources), counted in its owner's storage.
    public var inputBytes: Int

    public init(
        id: String = Job.makeID(), owner: String, name: String, spec: JobSpec, sources: [JobSource], fingerprint: String? = nil,
        batch: BatchAttributes? = nil, expiresAt: Date? = nil, inputBytes: Int = 0
    ) {
        self.inputBytes = inputBytes
        self.batch = batch
        self.expiresAt = expiresAt
        self.id = id
        self.owner = owner
        self.name = name
        self.spec = spec
        self.sources = sources
        self.fingerprint = fingerprint
    }
}

/// What ``JobStore/record(_:owner:now:)`` did.
public struct RecordedOutcomes: Sendable, Equatable {
    /// The items whose outcome was written; the others' leases were lost.
    public var ids: Set<Int64>
    /// Jobs these outcomes finished, with their final status: each job is reported once, by the
    /// one transaction that finalised it.
    public var finishedJobs: [String: JobStatus]

    public init(ids: Set<Int64> = [], finishedJobs: [String: JobStatus] = [:]) {
        self.ids = ids
        self.finishedJobs = finishedJobs
    }
}

/// Items leased together from one job.
public struct ClaimedBatch: Sendable {
    public var job: Job
    public var items: [Item]
    public var leaseExpiresAt: Date
}

/// Why a store operation was refused.
///
/// A driver's own error never reaches a client's eyes: its text can carry SQL and data. It is
/// kept in ``DriverError`` for the server's log only, and what is said is a sentence of ours.
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    case jobNotFound(String)
    /// The job's status does not allow the operation (for example pausing a finished job).
    case invalidTransition(jobID: String, from: JobStatus, action: String)
    /// Stored data could not be read back; names the job or item.
    case corrupt(String)
    /// The database is not ready to serve (unreachable, or its schema is behind).
    case notReady(String)
    /// The operation lost a race that trying again may win: a deadlock, a serialization
    /// failure, a busy database, a dropped connection.
    case retryable(DriverError)
    /// The operation contradicts what is stored: a duplicate key, a broken constraint, or a
    /// lease (of an upload being read) that another process now holds.
    case conflict(String, DriverError?)
    /// The database failed in a way trying again will not mend (a full disk, a broken file).
    case failed(DriverError)

    public var description: String {
        switch self {
        case .jobNotFound(let id): "job \(id) not found"
        case .invalidTransition(let id, let from, let action): "cannot \(action) job \(id): it is \(from.rawValue)"
        case .corrupt(let what): "stored data is unreadable: \(what)"
        case .notReady(let why): "the database is not ready: \(why)"
        case .retryable: "the database is busy; try again"
        case .conflict(let what, _): what
        case .failed: "the database failed; the server's log has the details"
        }
    }

    /// The driver's error behind this one, for the operator's log.
    public var driverError: DriverError? {
        switch self {
        case .retryable(let driver), .failed(let driver): driver
        case .conflict(_, let driver): driver
        default: nil
        }
    }

    /// Whether stored data could not be read back: a fault of the thing read, not of the database.
    public var isCorruption: Bool {
        if case .corrupt = self { return true }
        return false
    }

    /// Whether running the whole transaction again may succeed.
    public var isRetryable: Bool {
        if case .retryable = self { return true }
        return false
    }
}

/// A database driver's error, carried inside a ``StoreError`` for logging. Its description is
/// the driver's full text and is for the operator's log, never for a response.
public struct DriverError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The database's error code where it has one (a SQLSTATE, or SQLite's result code).
    public var code: String
    public var description: String

    public init(code: String, description: String) {
        self.code = code
        self.description = description
    }
}

extension JobStore {
    public func resume(jobID: String, now: Date) async throws -> Job {
        try await resume(jobID: jobID, budget: nil, now: now)
    }

    /// A claim capped only by `limit`.
    public func claim(owner: String, limit: Int, leaseDuration: Double, now: Date) async throws -> ClaimedBatch? {
        try await claim(owner: owner, limit: limit, allowance: ClaimAllowance(), leaseDuration: leaseDuration, now: now)
    }
}

/// How many items one claim may take for a job, by the provider the job calls: what the worker
/// can start within about a second there. A provider not named is capped only by the claim's
/// limit; a job whose items are routed by model (or stored before jobs named their provider)
/// takes at most ``routed``.
public struct ClaimAllowance: Sendable, Equatable {
    public var byProvider: [String: Int]
    public var routed: Int?

    public init(byProvider: [String: Int] = [:], routed: Int? = nil) {
        self.byProvider = byProvider
        self.routed = routed
    }

    /// The cap for a job of `provider` (`nil`: routed), or `nil` for none.
    public func cap(provider: String?) -> Int? {
        guard let provider else { return routed }
        return byProvider[provider]
    }

    /// Whether any job at all could be claimed under it.
    public var allowsAny: Bool {
        byProvider.isEmpty || byProvider.values.contains { $0 > 0 } || (routed ?? 1) > 0
    }
}

/// An output kept in the result cache, and the model that produced it.
public struct CachedOutput: Sendable, Equatable {
    public var output: JSONValue
    public var model: String?

    public init(output: JSONValue, model: String?) {
        self.output = output
        self.model = model
    }
}
