import Foundation
public import Logging
import ServiceLifecycle
public import SluiceCore
public import SluiceStore

/// What a background loop (reaper, ingest, claim, group commit) does when a round fails: log it,
/// wait a pause that doubles with each failure in a row (``RetryBackoff``), and go on — a
/// database that restarts, a lock held too long or a full disk freed again must not take the
/// service down with it. A failure that cannot heal ends the loop instead, by throwing
/// ``UnrecoverableStoreFailure``: the process then stops with that message and a non-zero exit
/// rather than retrying forever against a database it can never use.
public struct FailedRounds: Sendable {
    let loop: String
    let store: any JobStore
    let clock: any SluiceClock
    let logger: Logger
    let metrics: EngineMetrics
    let backoff = RetryBackoff(base: 0.25, cap: 15)
    private(set) var inARow = 0

    public init(loop: String, store: any JobStore, clock: any SluiceClock, logger: Logger, metrics: EngineMetrics) {
        self.loop = loop
        self.store = store
        self.clock = clock
        self.logger = logger
        self.metrics = metrics
        metrics.declare(loop: loop)
    }

    /// A round worked: the next failure waits the shortest pause again.
    public mutating func succeeded() {
        if inARow > 0 { logger.notice("\(loop) works again", metadata: ["failed_rounds": "\(inARow)"]) }
        inARow = 0
    }

    /// Logs a failed round and returns how many seconds to wait before the next; throws
    /// ``UnrecoverableStoreFailure`` when the store says it cannot serve at all.
    public mutating func failed(_ error: any Error) async throws -> Double {
        try await Self.stopIfUnrecoverable(store)
        inARow += 1
        metrics.failedRound(loop: loop)
        let pause = backoff.ceiling(attempt: inARow)
        var metadata: Logger.Metadata = ["error": "\(error)", "failed_rounds": "\(inARow)", "retry_in_seconds": "\(pause)"]
        if let driver = (error as? StoreError)?.driverError { metadata["driver"] = "\(driver)" }
        logger.error("\(loop) round failed; trying again", metadata: metadata)
        return pause
    }

    /// ``failed(_:)``, then the pause itself (cut short, silently, when the task is cancelled).
    mutating func waitAfter(_ error: any Error) async throws {
        let pause = try await failed(error)
        try? await clock.sleep(seconds: pause)
    }

    /// Runs `round` until graceful shutdown: again at once when it says it did work (there may
    /// be more), else after `interval`; a failed round waits its pause and goes on, and only
    /// ``UnrecoverableStoreFailure`` ends the loop — with the process.
    public static func loop(
        _ name: String, store: any JobStore, clock: any SluiceClock, logger: Logger, metrics: EngineMetrics, interval: Double,
        round: () async throws -> Bool
    ) async throws {
        var failures = FailedRounds(loop: name, store: store, clock: clock, logger: logger, metrics: metrics)
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            var pause = interval
            do {
                if try await round() { pause = 0 }
                failures.succeeded()
            } catch let error as UnrecoverableStoreFailure {
                throw error
            } catch is CancellationError {
                return
            } catch {
                pause = try await failures.failed(error)
            }
            if pause > 0 { try? await cancelWhenGracefulShutdown { [clock, pause] in try await clock.sleep(seconds: pause) } }
        }
    }

    /// Throws when the store is up but cannot be used as it is — its schema is behind this
    /// build, or (SQLite) its file was removed — which no retry mends. A store that cannot be
    /// reached at all may come back, so that is not a reason to stop.
    public static func stopIfUnrecoverable(_ store: any JobStore) async throws {
        do {
            try await store.checkReady()
        } catch StoreError.notReady(let why) {
            throw UnrecoverableStoreFailure(reason: why)
        } catch {
            return
        }
    }
}
