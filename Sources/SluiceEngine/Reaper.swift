public import Logging
public import ServiceLifecycle
public import SluiceCore
public import SluiceStore

/// Returns items whose lease expired — their worker died or hung — to the queue, and stops
/// jobs whose window has ended.
///
/// It exists because a lease is the only proof a worker is alive: without this loop, a crash
/// would strand its items in `running` forever. Any number of processes may run it; the store
/// makes reclaiming idempotent.
public struct Reaper: Service {
    let store: any JobStore
    let interval: Double
    let clock: any SluiceClock
    let logger: Logger
    let metrics: EngineMetrics

    public init(
        store: any JobStore, interval: Double, clock: any SluiceClock = SystemClock(), logger: Logger = Logger(label: "sluice.reaper"),
        metrics: EngineMetrics = .none
    ) {
        self.store = store
        self.interval = interval
        self.clock = clock
        self.logger = logger
        self.metrics = metrics
    }

    /// Sweeps every `interval` until shutdown. A failed sweep is logged and tried again after a
    /// pause (``FailedRounds``); each round also checks the database can still serve at all
    /// (the one periodic check of this process: SQLite works on in a file deleted under it), and
    /// throws ``UnrecoverableStoreFailure`` when it cannot, which stops the process.
    public func run() async throws {
        try await FailedRounds.loop("reaper", store: store, clock: clock, logger: logger, metrics: metrics, interval: interval) {
            try await FailedRounds.stopIfUnrecoverable(store)
            try await sweep()
            return false
        }
    }

    /// One pass; returns how many items were taken back.
    @discardableResult
    public func sweep() async throws -> Int {
        let reclaimed = try await store.reclaimExpiredLeases(now: clock.now())
        if reclaimed > 0 { logger.notice("reclaimed expired leases", metadata: ["items": "\(reclaimed)"]) }
        for job in try await store.expireOverdueJobs(now: clock.now()) {
            logger.notice("job expired", metadata: ["job": "\(job)"])
        }
        return reclaimed
    }
}
