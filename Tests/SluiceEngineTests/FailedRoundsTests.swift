import Foundation
import Prometheus
import SluiceCore
import SluiceEngine
import SluiceProviders
import SluiceStore
import SluiceTestSupport
import Testing

/// Background loops against a database that fails under them: a real failure (a table renamed
/// away, so every statement naming it fails in the driver's own words), not a stand-in store.
@Suite struct FailedRoundsTests {
    @Test func theReaperOutlivesFailedSweepsAndSweepsAgainOnceTheDatabaseMends() async throws {
        let harness = try await EngineHarness()
        let clock = ManualClock(start: Date())
        let registry = PrometheusCollectorRegistry()
        let job = try await harness.job(count: 12, spec: ["template": "{{text}}", "batch_size": 12])
        _ = try #require(try await harness.store.claim(owner: "dead", limit: 100, leaseDuration: 60, now: clock.now()))
        let reaper = Reaper(
            store: harness.store, interval: 5, clock: clock, metrics: EngineMetrics(factory: PrometheusMetricsFactory(registry: registry)))
        let running = Task { try await reaper.run() }
        try await harness.fixture.renameTable("items", to: "items_away")
        var failed = 0.0
        // Each advance ends whatever pause the reaper is in; each sweep fails while the table is away.
        try await waitUntil("two failed sweeps") {
            clock.advance(by: 61)
            failed = metricValue(registry.scrape(), #"sluice_failed_rounds_total{loop="reaper"}"#) ?? 0
            return failed >= 2
        }
        try await harness.fixture.renameTable("items_away", to: "items")
        try await waitUntil("the dead worker's items back in the queue") {
            clock.advance(by: 20)
            return try await harness.store.job(id: job.id)?.counts.pending == 12
        }
        running.cancel()
        // Cancelled, not ended by the failures: it was still sweeping.
        let ended = await running.result
        if case .failure(let error) = ended { #expect(!(error is UnrecoverableStoreFailure), "\(error)") }
    }

    @Test func aSchemaBehindThisBuildStopsTheReaperWithTheReason() async throws {
        let harness = try await EngineHarness()
        try await harness.fixture.renameTable(harness.fixture.migrationsTable, to: "migrations_away")
        let reaper = Reaper(store: harness.store, interval: 5)
        let error = await #expect(throws: UnrecoverableStoreFailure.self) { try await reaper.run() }
        #expect(error?.description.contains("migrations are pending") == true, "\(String(describing: error))")
    }

    @Test(.enabled(if: StoreDriver.current == .sqlite)) func aDatabaseFileRemovedWhileOpenStopsTheReaper() async throws {
        let harness = try await EngineHarness()
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: harness.fixture.databaseURL + suffix) }
        let error = await #expect(throws: UnrecoverableStoreFailure.self) { try await Reaper(store: harness.store, interval: 5).run() }
        #expect(error?.description.contains("removed or replaced") == true, "\(String(describing: error))")
    }

    @Test func aWorkerFinishesAJobThroughAStoreThatFailsForAWhile() async throws {
        let harness = try await EngineHarness()
        let gate = GatedProvider()
        let registry = PrometheusCollectorRegistry()
        let job = try await harness.job(count: 30, spec: ["template": "{{text}}", "provider": "gated", "batch_size": 30])
        let worker = Worker(
            store: harness.store, providers: ProviderRegistry(entries: [ProviderEntry(gate, breaker: .init(failureThreshold: .max))]),
            configuration: EngineHarness.configuration(concurrency: 4),
            metrics: EngineMetrics(factory: PrometheusMetricsFactory(registry: registry)))
        let done = try await harness.withRunning(worker) {
            await gate.waitForStarts(4)
            // Four calls are in flight when the items table goes: their results cannot be written.
            try await harness.fixture.renameTable("items", to: "items_away")
            gate.open()
            try await waitUntil("two failed commits") {
                (metricValue(registry.scrape(), #"sluice_failed_rounds_total{loop="recording results"}"#) ?? 0) >= 2
            }
            try await harness.fixture.renameTable("items_away", to: "items")
            return try await waitForJob(harness.store, job.id) { $0.status.isFinal }
        }
        #expect(done.status == .completed)
        #expect(done.counts.succeeded == 30)
        // The results held through the outage were written, not dropped and paid for again.
        #expect(gate.started == 30)
        #expect(try await harness.items(job.id).allSatisfy { $0.attempts == 1 && $0.output == .string("done") })
    }
}

extension PrometheusCollectorRegistry {
    func scrape() -> String { String(decoding: emitToBuffer(), as: UTF8.self) }
}
