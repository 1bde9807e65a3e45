public import Foundation
public import Logging
public import ServiceLifecycle
public import SluiceCore
public import SluiceStore
import Synchronization

/// The database server's time, read through this process's clock plus a measured offset: the
/// one clock every process sharing a database measures leases by.
///
/// Each process decides whether a lease has expired from the time it passes the store. With
/// each machine's own clock, a worker whose clock ran two minutes fast would see every other
/// worker's leases as expired, take their items back and call the provider again for them.
/// The offset is measured at start (``synchronize()``, before any claim) and again every
/// ``interval`` while the process runs (as a `Service`); a round trip's midpoint is taken as the
/// moment the database read its clock, so the error is at most half a round trip.
public final class DatabaseClock: SluiceClock, Service {
    let store: any JobStore
    let interval: Double
    let logger: Logger
    private let offset = Mutex<Double>(0)

    public init(store: any JobStore, interval: Double = 60, logger: Logger) {
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    /// Seconds this process's clock is behind the database's (negative: ahead).
    public var offsetSeconds: Double { offset.withLock { $0 } }

    public func now() -> Date { Date().addingTimeInterval(offsetSeconds) }

    public func sleep(seconds: Double) async throws {
        try await Task.sleep(for: .seconds(seconds))
    }

    /// Measures the offset once.
    public func synchronize() async throws {
        let before = Date()
        let database = try await store.databaseTime()
        let after = Date()
        let measured = database.timeIntervalSince(before.addingTimeInterval(after.timeIntervalSince(before) / 2))
        let previous = offset.withLock { offset in
            defer { offset = measured }
            return offset
        }
        if abs(measured) > 1, abs(measured - previous) > 1 {
            logger.notice(
                "this machine's clock differs from the database's; leases are measured by the database's",
                metadata: ["offset_seconds": "\(measured)"])
        }
    }

    /// Re-measures every ``interval`` until shut down; a failed measurement keeps the last offset.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while (try? await Task.sleep(for: .seconds(self.interval))) != nil {
                do {
                    try await self.synchronize()
                } catch {
                    self.logger.warning("reading the database's clock failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
