import Foundation
public import SluiceCore
public import SluiceStore

/// How a worker process runs: its identity, how much it does at once, and its timings.
public struct EngineConfiguration: Sendable {
    /// Names this worker in leases; unique per process (host and pid by default).
    public var workerID: String
    /// Model calls in flight at once in this process.
    public var concurrency: Int
    /// How long a claim is held without a heartbeat before other workers may take it back.
    public var leaseDuration: Double
    /// How often held leases are extended; well inside ``leaseDuration``.
    public var heartbeatInterval: Double
    /// How often expired leases are returned to pending.
    public var reaperInterval: Double
    /// How long a worker waits before offering a provider room again after a claim found no
    /// work for it; doubled while claims keep finding none (see `EmptyClaims`). A commit of this
    /// process that may have made work ends the wait at once.
    public var idleInterval: Double
    /// How stale a job's status may be when deciding to start a call; bounds how long a
    /// cancel or pause from another process takes to stop new calls.
    public var statusRefreshInterval: Double
    /// Back-off for retryable failures.
    public var backoff: RetryBackoff
    /// The most outcomes written in one group commit (see `OutcomeRecorder`), so that one
    /// commit never holds the database long enough to delay claims.
    public var commitBatch: Int
    /// Where providers' limits are shared with the other processes on the database (see
    /// ``PaceStore``); `nil` when this process's limits are its own (one process on one file).
    public var sharedPace: (any PaceStore)?
    /// Where this worker reports what its gates know of each provider key's limits, every
    /// heartbeat, for the team view (see ``ProviderReadingStore``); `nil`: nowhere.
    public var readings: (any ProviderReadingStore)?
    /// How the batch tier's upstream batches are made and polled.
    public var batches = BatchSettings()
    /// The most image bytes read from zip uploads one claim holds at once (see ``JobFiles``).
    public var claimImageBytes = 256 << 20

    /// Items claimed beyond the free call slots, so that a slot freed by a finished call starts
    /// its next call at once instead of after a claim round trip. The trade-off: prefetched
    /// items are leased to this worker while they wait, so another worker cannot run them; a
    /// quarter of the slots (at most 16) keeps the wait short and the hoard small.
    public var prefetch: Int { min(16, max(1, concurrency / 4)) }

    /// Calls in flight at once unless told otherwise: high enough that a remote provider's rate
    /// limit, not this, sets the pace (at 1 s a call, 64 in flight reach 3,800 calls a minute);
    /// the limiter keeps calls under the limit. Every command's `--concurrency` defaults to it.
    public static let defaultConcurrency = 64

    public init(
        workerID: String = EngineConfiguration.defaultWorkerID(), concurrency: Int = EngineConfiguration.defaultConcurrency,
        leaseDuration: Double = 60,
        heartbeatInterval: Double = 15, reaperInterval: Double = 5, idleInterval: Double = 0.05,
        statusRefreshInterval: Double = 0.25, backoff: RetryBackoff = RetryBackoff(), commitBatch: Int = 256,
        sharedPace: (any PaceStore)? = nil, readings: (any ProviderReadingStore)? = nil
    ) {
        self.sharedPace = sharedPace
        self.readings = readings
        self.workerID = workerID
        self.concurrency = max(1, concurrency)
        self.leaseDuration = leaseDuration
        self.heartbeatInterval = heartbeatInterval
        self.reaperInterval = reaperInterval
        self.idleInterval = idleInterval
        self.statusRefreshInterval = statusRefreshInterval
        self.backoff = backoff
        self.commitBatch = commitBatch
    }

    /// `host/namespace:pid:random`: the host and pid let a worker restarted on the same machine recognise
    /// the leases of a predecessor that died (see ``WorkerIdentity``); the random part keeps a
    /// reused pid from ever matching a living worker's leases.
    public static func defaultWorkerID() -> String {
        WorkerIdentity(host: WorkerIdentity.thisMachine, pid: ProcessInfo.processInfo.processIdentifier).description
            + ":\(UInt32.random(in: 0...UInt32.max))"
    }
}
