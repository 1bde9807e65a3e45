import Logging
import ServiceLifecycle
import SluiceCore
import SluiceStore

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

    public init(
        store: any JobStore, interval: Double, clock: any SluiceClock = SystemClock(), logger: Logger = Logger(label: "sluice.reaper")
    ) {
        self.store = store
        self.interval = interval
        self.clock = clock
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            try await sweep()
            try? await cancelWhenGracefulShutdown { try await clock.sleep(seconds: interval) }
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
