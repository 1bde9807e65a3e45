import Foundation
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing

/// Map-then-reduce jobs and documents that fail at ingest, on every driver: each round is
/// started in the transaction that ends the last one, exactly once.
@Suite struct StoreReduceTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func spec(maxChars: Int) -> JobSpec {
        Fixtures.spec(["template": "{{text}}", "batch_size": 50, "reduce": ["template": "Combine {{parts}}", "max_chars": .int(maxChars)]])
    }

    /// Claims everything pending and records `output(item)` for each.
    func finishPending(_ store: any JobStore, output: (Item) -> JSONValue) async throws -> [Item] {
        guard let batch = try await store.claim(owner: "w", limit: 50, leaseDuration: 30, now: t0) else { return [] }
        _ = try await store.record(batch.items.map { ItemOutcome(itemID: $0.id, result: .succeeded(output($0))) }, owner: "w", now: t0)
        return batch.items
    }

    @Test(arguments: StoreDriver.available)
    func aMapIsReducedInRoundsUntilOneResult(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let job = try await Fixtures.queuedJob(in: store, count: 6, spec: spec(maxChars: 1000), now: t0)
        #expect(job.stage == .mapping)
        // Six map outputs of ~400 characters: two fit a call, so three calls, then one.
        let map = try await finishPending(store) { .string("part \($0.index) " + String(repeating: "x", count: 400)) }
        #expect(map.count == 6)
        let reducing = try #require(try await store.job(id: job.id))
        #expect(reducing.status == .running && reducing.stage == .reducing)
        #expect(reducing.stageMessage == "Combining 6 parts into the result in 3 calls (round 1)…")
        #expect(reducing.counts == JobCounts(total: 9, pending: 3, succeeded: 6))
        let first = try await finishPending(store) { _ in ["merged": true] }
        #expect(first.map(\.round) == [1, 1, 1])
        #expect(first.map(\.index) == [6, 7, 8])
        #expect(first[0].input["parts"]?.arrayValue?.count == 2)
        #expect(first[0].input["parts"]?.arrayValue?.first?.stringValue?.hasPrefix("part 0 ") == true)
        #expect(try await store.result(jobID: job.id) == nil, "three partial results are not the result")
        let last = try await finishPending(store) { _ in ["title": "Course"] }
        #expect(last.count == 1 && last[0].round == 2)
        #expect(last[0].input["parts"] == [["merged": true], ["merged": true], ["merged": true]])
        let done = try #require(try await store.job(id: job.id))
        #expect(done.status == .completed && done.stage == nil)
        #expect(done.counts == JobCounts(total: 10, succeeded: 10))
        #expect(try await store.result(jobID: job.id) == ["title": "Course"])
    }

    @Test(arguments: StoreDriver.available)
    func aMapWithOneOutputIsStillReducedOnce(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let job = try await Fixtures.queuedJob(in: store, count: 1, spec: spec(maxChars: 1000), now: t0)
        _ = try await finishPending(store) { _ in "draft" }
        let reduce = try await finishPending(store) { _ in ["title": "T"] }
        #expect(reduce.count == 1 && reduce[0].input["parts"] == ["draft"])
        #expect(try await store.job(id: job.id)?.status == .completed)
        #expect(try await store.result(jobID: job.id) == ["title": "T"])
    }

    @Test(arguments: StoreDriver.available)
    func aDocumentThatFailedAtIngestCountsAsFailedAndTheRestGoOn(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let job = try await Fixtures.validatingJob(in: store, spec: spec(maxChars: 1000), now: t0)
        try await store.appendItems(
            jobID: job.id, owner: Fixtures.ingestor,
            items: [
                NewItem(index: 0, groupKey: nil, input: JSONObject([("text", "good")])),
                NewItem(index: 1, groupKey: nil, input: JSONObject([("document", "b.pdf")]), failure: "b.pdf is encrypted with a password"),
            ])
        let queued = try await store.finishValidation(jobID: job.id, owner: Fixtures.ingestor, now: t0)
        #expect(queued.counts == JobCounts(total: 2, pending: 1, failed: 1))
        #expect(queued.errors == [JobErrorEntry(item: 1, message: "b.pdf is encrypted with a password")])
        _ = try await finishPending(store) { _ in "draft" }
        _ = try await finishPending(store) { _ in ["title": "T"] }
        let done = try #require(try await store.job(id: job.id))
        #expect(done.status == .completedWithErrors)
        #expect(try await store.result(jobID: job.id) == ["title": "T"], "the good document still makes a result")
    }

    @Test(arguments: StoreDriver.available)
    func aJobWhoseEveryDocumentFailedEndsFailedWithNothingToReduce(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let job = try await Fixtures.validatingJob(in: store, spec: spec(maxChars: 1000), now: t0)
        try await store.appendItems(
            jobID: job.id, owner: Fixtures.ingestor,
            items: [NewItem(index: 0, groupKey: nil, input: JSONObject([("document", "a.pdf")]), failure: "a.pdf has no text")])
        let done = try await store.finishValidation(jobID: job.id, owner: Fixtures.ingestor, now: t0)
        #expect(done.status == .failed && done.counts == JobCounts(total: 1, failed: 1))
        #expect(try await store.result(jobID: job.id) == nil)
    }

    @Test(arguments: StoreDriver.available)
    func aCancelledMapStartsNoRound(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let job = try await Fixtures.queuedJob(in: store, count: 2, spec: spec(maxChars: 1000), now: t0)
        let batch = try #require(try await store.claim(owner: "w", limit: 1, leaseDuration: 30, now: t0))
        _ = try await store.cancel(jobID: job.id, now: t0)
        _ = try await store.record(batch.items.map { ItemOutcome(itemID: $0.id, result: .succeeded("x")) }, owner: "w", now: t0)
        let done = try #require(try await store.job(id: job.id))
        #expect(done.status == .cancelled && done.counts.total == 2)
    }
}
