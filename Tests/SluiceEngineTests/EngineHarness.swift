import Foundation
import SluiceCore
import SluiceEngine
import SluiceProviders
import SluiceStorage
import SluiceStore
import SluiceTestSupport

/// A store plus a worker wired for tests: a real database (``StoreDriver/current``), real
/// worker loop, test providers.
struct EngineHarness {
    let fixture: StoreFixture
    var store: SQLJobStore { fixture.store }

    init() async throws {
        fixture = try await StoreDriver.current.makeStore()
    }

    static func configuration(concurrency: Int = 4) -> EngineConfiguration {
        // Status is re-read before every call (ttl 0) so that a cancel is seen by the next
        // call deterministically; back-off is zero so retries need no waiting. An idle worker
        // wakes at each commit of the test's store, so its poll only covers what no commit
        // announces (a throttled item's wait ending) and is kept slow: dozens of tests' idle
        // workers polling every few milliseconds were most of the database's load.
        EngineConfiguration(
            workerID: "test-worker", concurrency: concurrency, leaseDuration: 60, heartbeatInterval: 20, reaperInterval: 5,
            idleInterval: 0.1, statusRefreshInterval: 0, backoff: RetryBackoff(base: 0, cap: 0))
    }

    /// A worker calling `providers` with no rate limits and a circuit breaker that never opens,
    /// so tests of retries see every attempt (the breaker has tests of its own).
    func worker(_ providers: [any ModelProvider], concurrency: Int = 4, storage: (any FileStorage)? = nil) -> Worker {
        let entries = providers.map { ProviderEntry($0, breaker: .init(failureThreshold: .max)) }
        return Worker(
            store: store, providers: ProviderRegistry(entries: entries), configuration: Self.configuration(concurrency: concurrency),
            storage: storage)
    }

    /// Runs `worker` while `body` runs, then drains it and waits for it to stop.
    func withRunning<T: Sendable>(_ worker: Worker, _ body: () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await worker.run() }
            do {
                let result = try await body()
                worker.drain()
                try await group.waitForAll()
                return result
            } catch {
                worker.drain()
                try? await group.waitForAll()
                throw error
            }
        }
    }

    func job(count: Int, spec: JSONValue, owner: String = "alice") async throws -> Job {
        try await Fixtures.queuedJob(in: store, count: count, spec: Fixtures.spec(spec), owner: owner, now: Date())
    }

    func items(_ jobID: String) async throws -> [Item] {
        try await store.items(jobID: jobID, status: nil, afterIndex: -1, limit: 100_000)
    }
}
