import Foundation
import SluiceCore
import SluiceEngine
import SluiceProviders
import SluiceStore
import SluiceTestSupport
import Testing

/// Cancel, pause, drain and crash recovery: what stops work, and what brings it back.
@Suite struct ControlTests {
    let spec: JSONValue = ["template": "{{text}}", "provider": "gated", "batch_size": 10]

    @Test func cancelStartsNoNewCalls() async throws {
        let harness = try await EngineHarness()
        let provider = GatedProvider()
        let job = try await harness.job(count: 10, spec: spec)
        let done = try await harness.withRunning(harness.worker([provider], concurrency: 2)) {
            await provider.waitForStarts(2)
            let cancelling = try await harness.store.cancel(jobID: job.id, now: Date())
            #expect(cancelling.status == .cancelling)
            provider.open()
            return try await waitForJob(harness.store, job.id) { $0.status.isFinal }
        }
        #expect(done.status == .cancelled)
        #expect(provider.started == 2, "calls in flight finish; no new call starts")
        #expect(done.counts == JobCounts(total: 10, succeeded: 2, cancelled: 8))
    }

    @Test func pauseHoldsItemsUntilResume() async throws {
        let harness = try await EngineHarness()
        let provider = GatedProvider()
        let job = try await harness.job(count: 10, spec: spec)
        let worker = harness.worker([provider], concurrency: 2)
        let done = try await harness.withRunning(worker) {
            await provider.waitForStarts(2)
            _ = try await harness.store.pause(jobID: job.id, reason: "by test", now: Date())
            provider.open()
            let paused = try await waitForJob(harness.store, job.id) { $0.counts.running == 0 }
            #expect(paused.status == .paused)
            #expect(paused.counts == JobCounts(total: 10, pending: 8, succeeded: 2))
            #expect(provider.started == 2)
            _ = try await harness.store.resume(jobID: job.id, now: Date())
            return try await waitForJob(harness.store, job.id) { $0.status.isFinal }
        }
        #expect(done.status == .completed)
        #expect(provider.started == 10)
        #expect(try await harness.items(job.id).allSatisfy { $0.attempts == 1 }, "paused items kept their attempts")
    }

    @Test func drainFinishesCallsInFlightAndReleasesTheRest() async throws {
        let harness = try await EngineHarness()
        let provider = GatedProvider()
        let job = try await harness.job(count: 10, spec: spec)
        let worker = harness.worker([provider], concurrency: 2)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await worker.run() }
            await provider.waitForStarts(2)
            worker.drain()
            provider.open()
            try await group.waitForAll()
        }
        let after = try #require(try await harness.store.job(id: job.id))
        #expect(after.counts == JobCounts(total: 10, pending: 8, succeeded: 2))
        #expect(after.status == .running)
        let items = try await harness.items(job.id)
        #expect(items.filter { $0.status == .pending }.allSatisfy { $0.attempts == 0 && $0.leaseOwner == nil })
    }

    @Test func theReaperReturnsADeadWorkersItemsAndAnotherFinishesThem() async throws {
        let harness = try await EngineHarness()
        let clock = ManualClock(start: Date())
        let job = try await harness.job(count: 30, spec: ["template": "{{text}}", "batch_size": 30])
        // A worker claims everything and dies without a word.
        let claimed = try #require(try await harness.store.claim(owner: "dead", limit: 100, leaseDuration: 60, now: clock.now()))
        #expect(claimed.items.count == 30)
        let reaper = Reaper(store: harness.store, interval: 5, clock: clock)
        #expect(try await reaper.sweep() == 0, "the lease has not expired yet")
        clock.advance(by: 61)
        #expect(try await reaper.sweep() == 30)
        let done = try await harness.withRunning(harness.worker([BuiltinProvider()])) {
            try await waitForJob(harness.store, job.id) { $0.status.isFinal }
        }
        #expect(done.status == .completed)
        #expect(try await harness.items(job.id).allSatisfy { $0.attempts == 2 && $0.status == .succeeded })
    }

    @Test func aBigJobDoesNotStarveASmallOne() async throws {
        let harness = try await EngineHarness()
        let big = try await harness.job(count: 20_000, spec: ["template": "{{text}}", "batch_size": 20], owner: "alice")
        let small = try await harness.job(count: 10, spec: ["template": "{{text}}"], owner: "bob")
        let (smallDone, bigAtThatMoment) = try await harness.withRunning(harness.worker([BuiltinProvider()], concurrency: 8)) {
            let smallDone = try await waitForJob(harness.store, small.id) { $0.status.isFinal }
            return (smallDone, try await harness.store.job(id: big.id)!)
        }
        #expect(smallDone.status == .completed)
        #expect(bigAtThatMoment.counts.finished < 2_000, "the small job finished while the big one had barely started")
    }
}
