import Foundation
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing

/// Packs, the result cache, budgets and the failure brake, run against every driver: each is
/// decided in the statement that changes the row.
@Suite struct StoreSpendingTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test(arguments: StoreDriver.available)
    func aRepackedRowGoesBackUnspentWithItsSmallerPack(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let job = try await Fixtures.queuedJob(
            in: store, count: 4, spec: Fixtures.spec(["template": "{{text}}", "items_per_request": 4, "batch_size": 4]), now: t0)
        let batch = try #require(try await store.claim(owner: "w", limit: 1, leaseDuration: 30, now: t0))
        #expect(batch.items.count == 4)
        let ids = batch.items.map(\.id)
        let usage = TokenUsage(promptTokens: 10, completionTokens: 4)
        let recorded = try await store.record(
            [
                ItemOutcome(itemID: ids[0], result: .succeeded("a"), usage: usage, calls: 1, costMicros: 70),
                ItemOutcome(itemID: ids[1], result: .succeeded("b")),
                ItemOutcome(itemID: ids[2], result: .repack("invalid reply: the reply did not answer row r2", packSize: 2)),
                ItemOutcome(itemID: ids[3], result: .repack("invalid reply: the reply answered row r3 2 times", packSize: 2)),
            ], owner: "w", now: t0)
        #expect(recorded.ids.count == 4)
        let after = try #require(try await store.job(id: job.id))
        #expect(after.counts == JobCounts(total: 4, pending: 2, succeeded: 2))
        #expect(after.calls == 1 && after.costMicros == 70 && after.usage == usage)
        let again = try #require(try await store.claim(owner: "w", limit: 1, leaseDuration: 30, now: t0))
        #expect(again.items.map(\.id) == [ids[2], ids[3]])
        #expect(again.items.allSatisfy { $0.packSize == 2 && $0.attempts == 1 }, "a repack spends no attempt")
    }

    @Test(arguments: StoreDriver.available)
    func aValidatedOutputIsCachedByKeyAndAHitIsCounted(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let job = try await Fixtures.queuedJob(in: store, count: 3, now: t0)
        let ids = try #require(try await store.claim(owner: "w", limit: 3, leaseDuration: 30, now: t0)).items.map(\.id)
        _ = try await store.record(
            [
                ItemOutcome(itemID: ids[0], result: .succeeded(["v": 1]), model: "m1", calls: 1, cacheKey: "k1"),
                ItemOutcome(itemID: ids[1], result: .failed("no"), calls: 1, cacheKey: "k2"),
                ItemOutcome(itemID: ids[2], result: .succeeded(["v": 1]), model: "m1", cached: true, cacheKey: "k1"),
            ], owner: "w", now: t0)
        #expect(
            try await store.cachedOutputs(keys: ["k1", "k2", "k3"], notBefore: t0) == ["k1": CachedOutput(output: ["v": 1], model: "m1")])
        let after = try #require(try await store.job(id: job.id))
        #expect(after.cached == 1 && after.calls == 2)
        let items = try await store.items(jobID: job.id, status: nil, afterIndex: -1, limit: 10)
        #expect(items.map(\.cached) == [false, false, true])
        // An entry older than the age asked for answers nothing, and the housekeeper removes it.
        #expect(try await store.cachedOutputs(keys: ["k1"], notBefore: t0.addingTimeInterval(1)).isEmpty)
        #expect(try await store.removeCacheEntries(before: t0) == 0)
        #expect(try await store.removeCacheEntries(before: t0.addingTimeInterval(1)) == 1)
        #expect(try await store.cachedOutputs(keys: ["k1"], notBefore: .distantPast).isEmpty)
    }

    @Test(arguments: StoreDriver.available)
    func aJobsAnswersReachTheCacheWhenItEndsEvenCancelled(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let job = try await Fixtures.queuedJob(in: store, count: 3, now: t0)
        let ids = try #require(try await store.claim(owner: "w", limit: 2, leaseDuration: 30, now: t0)).items.map(\.id)
        _ = try await store.record(
            [ItemOutcome(itemID: ids[0], result: .succeeded(["v": 1]), model: "m1", calls: 1, cacheKey: "k1")], owner: "w", now: t0)
        #expect(try await store.cachedOutputs(keys: ["k1"], notBefore: t0).isEmpty, "kept on the item while the job runs")
        #expect(try await store.cancel(jobID: job.id, now: t0).status == .cancelling)
        let later = t0.addingTimeInterval(100)
        let last = try await store.record(
            [ItemOutcome(itemID: ids[1], result: .succeeded(["v": 2]), model: "m1", calls: 1, cacheKey: "k2")], owner: "w", now: later)
        #expect(last.finishedJobs == [job.id: .cancelled])
        #expect(
            try await store.cachedOutputs(keys: ["k1", "k2"], notBefore: t0) == [
                "k1": CachedOutput(output: ["v": 1], model: "m1"), "k2": CachedOutput(output: ["v": 2], model: "m1"),
            ])
        // An entry is as old as its answer, not as the job's end.
        #expect(try await store.cachedOutputs(keys: ["k1", "k2"], notBefore: t0.addingTimeInterval(50)).keys.sorted() == ["k2"])
    }

    /// Idle workers wait on `newWork`: outcomes that only finish items do not wake them (they
    /// commit as often as calls end); a retry, or a call of a budgeted job, does.
    @Test(arguments: StoreDriver.available)
    func onlyOutcomesThatMayMakeWorkWakeIdleWorkers(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let plain = try await Fixtures.queuedJob(in: store, count: 2, now: t0)
        let ids = try #require(try await store.claim(owner: "w", limit: 2, leaseDuration: 30, now: t0)).items.map(\.id)
        var (commits, work) = (store.commits.generation, store.newWork.generation)
        _ = try await store.record([ItemOutcome(itemID: ids[0], result: .succeeded(["v": 1]), calls: 1)], owner: "w", now: t0)
        #expect(store.commits.generation > commits && store.newWork.generation == work, "a success only finishes its item")
        work = store.newWork.generation
        _ = try await store.record(
            [ItemOutcome(itemID: ids[1], result: .retry("HTTP 500", notBefore: t0 + 3_600), calls: 1)], owner: "w", now: t0)
        #expect(store.newWork.generation > work, "a retry is work again")
        #expect(try await store.job(id: plain.id)?.counts.pending == 1)
        let spec = Fixtures.spec(["template": "{{text}}", "budget": ["tokens": 1_000_000]])
        let budgeted = try await Fixtures.queuedJob(in: store, count: 1, spec: spec, now: t0)
        // The retried item waits out its back-off: the claim is the budgeted job's.
        let claimed = try #require(try await store.claim(owner: "w", limit: 5, leaseDuration: 30, now: t0))
        #expect(claimed.job.id == budgeted.id)
        let item = try #require(claimed.items.first)
        (commits, work) = (store.commits.generation, store.newWork.generation)
        _ = try await store.record([ItemOutcome(itemID: item.id, result: .succeeded(["v": 1]), calls: 1)], owner: "w", now: t0)
        #expect(store.newWork.generation > work, "a budgeted job's claim may have waited for this call")
        #expect(store.commits.generation > commits)
    }

    @Test(arguments: StoreDriver.available)
    func pollsThatFindNothingDueWakeNobody(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let quiet = (store.commits.generation, store.newWork.generation)
        // What a server's background loops ask every second or so, with nothing due.
        #expect(try await store.leaseIngest(owner: "a", leaseDuration: 30, now: t0) == nil)
        #expect(try await store.webhooks.leaseDueDeliveries(owner: "a", limit: 10, until: t0 + 30, now: t0).isEmpty)
        #expect(try await store.webhooks.announceEndedJobs(limit: 10, now: t0) == 0)
        #expect(try await store.expireOverdueJobs(now: t0).isEmpty)
        #expect(try await store.reclaimExpiredLeases(now: t0) == 0)
        #expect(store.commits.generation == quiet.0 && store.newWork.generation == quiet.1, "idle workers stay asleep")
        // The same polls finding something do wake them.
        let job = try await store.createJob(NewJob(owner: "alice", name: "read me", spec: Fixtures.spec(), sources: []), now: t0)
        let work = store.newWork.generation
        #expect(try await store.leaseIngest(owner: "a", leaseDuration: 30, now: t0)?.id == job.id)
        #expect(store.newWork.generation > work)
    }

    @Test(arguments: StoreDriver.available)
    func aJobPausesAtItsTokenBudgetAndGoesOnWithAHigherOne(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let spec = Fixtures.spec(["template": "{{text}}", "batch_size": 2, "budget": ["tokens": 100], "failure_brake": false])
        let job = try await Fixtures.queuedJob(in: store, count: 10, spec: spec, now: t0)
        let first = try #require(try await store.claim(owner: "w", limit: 2, leaseDuration: 30, now: t0))
        #expect(first.items.count == 2, "with nothing spent yet there is no estimate: the claim takes what it asks")
        _ = try await store.record(
            first.items.map {
                ItemOutcome(itemID: $0.id, result: .succeeded("x"), usage: TokenUsage(promptTokens: 20, completionTokens: 10), calls: 1)
            },
            owner: "w", now: t0)
        // 60 of 100 spent at 30 an item: one more item fits, not two.
        let second = try #require(try await store.claim(owner: "w", limit: 2, leaseDuration: 30, now: t0))
        #expect(second.items.count == 1)
        #expect(try await store.claim(owner: "w", limit: 2, leaseDuration: 30, now: t0) == nil, "the call in flight may use the rest")
        _ = try await store.record(
            second.items.map {
                ItemOutcome(itemID: $0.id, result: .succeeded("x"), usage: TokenUsage(promptTokens: 20, completionTokens: 10), calls: 1)
            },
            owner: "w", now: t0)
        #expect(try await store.claim(owner: "w", limit: 2, leaseDuration: 30, now: t0) == nil)
        let paused = try #require(try await store.job(id: job.id))
        #expect(paused.status == .paused)
        #expect(paused.statusReason?.hasPrefix("budget nearly reached: spent 90 tokens of 100 tokens") == true)
        #expect(paused.usage.promptTokens + paused.usage.completionTokens <= 100, "never past the cap with one call in flight at a time")
        let resumed = try await store.resume(jobID: job.id, budget: Budget(tokens: 1000), maxReplyTokens: nil, now: t0)
        #expect(resumed.status == .running && resumed.spec.budget == Budget(tokens: 1000))
        #expect(try await store.claim(owner: "w", limit: 2, leaseDuration: 30, now: t0)?.items.count == 2)
    }

    @Test(arguments: StoreDriver.available)
    func aJobWhoseRecentItemsMostlyFailPausesItself(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let spec = Fixtures.spec(["template": "{{text}}", "batch_size": 10, "failure_brake": ["window": 4, "rate": 0.75]])
        let job = try await Fixtures.queuedJob(in: store, count: 10, spec: spec, now: t0)
        let ids = try #require(try await store.claim(owner: "w", limit: 10, leaseDuration: 30, now: t0)).items.map(\.id)
        _ = try await store.record(
            [ItemOutcome(itemID: ids[0], result: .succeeded("x")), ItemOutcome(itemID: ids[1], result: .failed("model not found"))],
            owner: "w", now: t0)
        #expect(try await store.job(id: job.id)?.status == .running, "two of four is not enough to judge")
        _ = try await store.record(
            [
                ItemOutcome(itemID: ids[2], result: .failed("model not found")),
                ItemOutcome(itemID: ids[3], result: .retry("busy", notBefore: t0)),
                ItemOutcome(itemID: ids[4], result: .failed("model 'gpt-x' not found")),
            ], owner: "w", now: t0)
        let paused = try #require(try await store.job(id: job.id))
        #expect(paused.status == .paused)
        #expect(paused.statusReason?.hasPrefix("failure brake: 3 of the last 4 items failed (last error: model 'gpt-x' not found)") == true)
        let resumed = try await store.resume(jobID: job.id, now: t0)
        #expect(resumed.status == .running)
        _ = try await store.record([ItemOutcome(itemID: ids[5], result: .failed("model not found"))], owner: "w", now: t0)
        #expect(try await store.job(id: job.id)?.status == .running, "a resumed job's brake counts afresh")
    }

    /// A reply cut empty at its limit sends its item back unspent with a larger one; cut at the
    /// cap, the job pauses in the same statement, nothing failed, and a resume may raise the cap.
    @Test(arguments: StoreDriver.available)
    func aReplyCutAtItsLimitGoesBackWithALargerOneAndAtTheCapPausesTheJob(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let spec = Fixtures.spec(["template": "{{text}}", "batch_size": 3, "max_reply_tokens": 4000])
        let job = try await Fixtures.queuedJob(in: store, count: 3, spec: spec, now: t0)
        #expect(job.spec.maxReplyTokens == 4000)
        let ids = try #require(try await store.claim(owner: "w", limit: 3, leaseDuration: 30, now: t0)).items.map(\.id)
        let spent = TokenUsage(promptTokens: 10, completionTokens: 1000, reasoningTokens: 1000)
        var raised = ItemOutcome(
            itemID: ids[0], result: .raiseReplyLimit("cut at 1000", replyTokens: 2000), usage: spent, calls: 1, costMicros: 5)
        raised.finishReason = "length"
        raised.attempt = 1
        _ = try await store.record([raised], owner: "w", now: t0)
        var job1 = try #require(try await store.job(id: job.id))
        #expect(job1.status == .running && job1.counts.pending == 1 && job1.counts.failed == 0)
        #expect(job1.usage.reasoningTokens == 1000 && job1.calls == 1, "the cut call is paid and counted")
        let again = try #require(try await store.claim(owner: "w", limit: 3, leaseDuration: 30, now: t0)).items
        #expect(again.map(\.id) == [ids[0]])
        #expect(again[0].replyTokens == 2000 && again[0].attempts == 1, "asked again with the larger limit, no attempt spent")
        #expect(again[0].finishReason == "length")
        _ = try await store.record(
            [ItemOutcome(itemID: ids[1], result: .capped("cut at the cap of 4000")), ItemOutcome(itemID: ids[0], result: .succeeded("a"))],
            owner: "w", now: t0)
        job1 = try #require(try await store.job(id: job.id))
        #expect(job1.status == .paused)
        #expect(job1.statusReason == "item 1: cut at the cap of 4000")
        #expect(job1.counts.failed == 0 && job1.counts.pending == 1 && job1.counts.succeeded == 1 && job1.counts.running == 1)
        let resumed = try await store.resume(jobID: job.id, budget: nil, maxReplyTokens: 16000, now: t0)
        #expect(resumed.status == .running && resumed.spec.maxReplyTokens == 16000)
        #expect(resumed.spec.budget == nil)
    }
}

/// The batch tier's upstream batches, against every driver.
@Suite struct UpstreamBatchStoreTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// A batch job's items are the dispatcher's, never a live claim's; an upstream batch holds
    /// them, its results count once however often they are recorded, and closing it gives back
    /// what it has no result for, unspent.
    @Test(arguments: StoreDriver.available)
    func aBatchJobsItemsGoToOneUpstreamBatchAndCountOnce(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let spec = Fixtures.spec(["template": "{{text}}", "provider": "up", "tier": "batch"])
        let job = try await Fixtures.queuedJob(in: store, count: 5, spec: spec, now: t0)
        #expect(try await store.claim(owner: "w", limit: 10, leaseDuration: 30, now: t0) == nil, "no live claim takes them")
        #expect(
            try await store.claimForUpstream(
                batchID: "ub_other", providers: ["elsewhere"], worker: "w", maxItems: 10, leaseSeconds: 60, itemLeaseSeconds: 600, now: t0)
                == nil, "nor a dispatcher without the job's provider")
        let claimed = try #require(
            try await store.claimForUpstream(
                batchID: "ub_1", providers: ["up"], worker: "w", maxItems: 4, leaseSeconds: 60, itemLeaseSeconds: 600, now: t0))
        #expect(claimed.items.count == 4 && claimed.items.allSatisfy { $0.leaseOwner == "upstream:ub_1" && $0.attempts == 1 })
        let ids = claimed.items.map(\.id)
        try await store.markSubmitted(
            batchID: "ub_1", upstreamID: "batch_x",
            units: ["u\(ids[0])": [ids[0]], "u\(ids[1])": [ids[1], ids[2]], "u\(ids[3])": [ids[3]]],
            tokens: 500, nextPollAt: t0.addingTimeInterval(30))
        #expect(try await store.upstreamTokens(provider: "up") == 500)
        #expect(try await store.claimDueUpstreamBatch(worker: "w", leaseSeconds: 60, now: t0) == nil, "not due yet")
        let due = try #require(try await store.claimDueUpstreamBatch(worker: "w", leaseSeconds: 60, now: t0.addingTimeInterval(31)))
        #expect(due.upstreamID == "batch_x" && due.units["u\(ids[1])"] == [ids[1], ids[2]] && due.status == .running)
        #expect(
            try await store.claimDueUpstreamBatch(worker: "v", leaseSeconds: 60, now: t0.addingTimeInterval(32)) == nil, "held by w")
        var answer = ItemOutcome(itemID: ids[0], result: .succeeded("a"), calls: 1)
        answer.tier = .batch
        answer.attempt = 1
        let first = try await store.record([answer], owner: due.itemOwner, now: t0)
        let again = try await store.record([answer], owner: due.itemOwner, now: t0)
        #expect(first.ids == [ids[0]] && again.ids.isEmpty, "a result counts once")
        try await store.closeUpstreamBatch(batchID: "ub_1", now: t0)
        let after = try #require(try await store.job(id: job.id))
        #expect(after.counts.succeeded == 1 && after.counts.pending == 4 && after.counts.running == 0)
        #expect(after.batchCalls == 1 && after.calls == 1)
        let back = try await store.items(jobID: job.id, status: .pending, afterIndex: -1, limit: 10)
        #expect(back.count == 4 && back.allSatisfy { $0.attempts == 0 }, "given back unspent")
        #expect(try await store.upstreamTokens(provider: "up") == 0)
    }

    /// A submission whose worker vanished (its hold lapsed while `submitting`) is due at once,
    /// and an auto job gone live hands its items to live claims.
    @Test(arguments: StoreDriver.available)
    func aLapsedSubmissionIsDueAndAnAutoJobGoesLive(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let spec = Fixtures.spec(["template": "{{text}}", "provider": "up", "tier": "auto", "deadline": "2h", "max_attempts": 1])
        let job = try await Fixtures.queuedJob(in: store, count: 3, spec: spec, now: t0)
        let auto = try await store.autoJobs(now: t0)
        #expect(
            auto == [
                AutoJob(id: job.id, provider: "up", unfinished: 3, itemsPerRequest: 1, deadline: job.createdAt.addingTimeInterval(7_200))
            ])
        _ = try #require(
            try await store.claimForUpstream(
                batchID: "ub_2", providers: ["up"], worker: "w", maxItems: 2, leaseSeconds: 60, itemLeaseSeconds: 600, now: t0))
        #expect(try await store.claimDueUpstreamBatch(worker: "v", leaseSeconds: 60, now: t0.addingTimeInterval(10)) == nil)
        let lapsed = try #require(try await store.claimDueUpstreamBatch(worker: "v", leaseSeconds: 60, now: t0.addingTimeInterval(61)))
        #expect(lapsed.status == .submitting && lapsed.upstreamID == nil)
        try await store.goLive(jobID: job.id, now: t0.addingTimeInterval(62))
        #expect(try await store.autoJobs(now: t0.addingTimeInterval(62)).isEmpty)
        let live = try #require(try await store.claim(owner: "w", limit: 10, leaseDuration: 30, now: t0.addingTimeInterval(63)))
        #expect(live.items.count == 1, "the item no batch holds")
        // A batch the provider failed whole spends its items' attempt: with one attempt each, they fail.
        try await store.closeUpstreamBatch(batchID: "ub_2", spending: "the provider failed the batch", now: t0.addingTimeInterval(64))
        let failed = try #require(try await store.job(id: job.id))
        #expect(
            failed.counts.failed == 2 && failed.errors.first?.message.contains("the provider failed the batch") == true, "\(failed.errors)")
    }
}

/// Priorities order one owner's jobs; the owners' turns stay fair.
@Suite struct JobPriorityTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test(arguments: StoreDriver.available)
    func aHighPriorityJobGoesAheadOfItsOwnersOthersButNotOfOtherOwners(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let big = try await Fixtures.queuedJob(
            in: store, count: 20, spec: Fixtures.spec(["template": "{{text}}", "batch_size": 2]), now: t0)
        let urgent = try await Fixtures.queuedJob(
            in: store, count: 2, spec: Fixtures.spec(["template": "{{text}}", "batch_size": 2, "priority": "high"]), now: t0)
        let other = try await Fixtures.queuedJob(
            in: store, count: 4, spec: Fixtures.spec(["template": "{{text}}", "batch_size": 2]), owner: "bob", now: t0)
        #expect(urgent.spec.priority == .high && big.spec.priority == .normal)
        var order: [String] = []
        while let claimed = try await store.claim(owner: "w", limit: 2, leaseDuration: 30, now: t0) {
            order.append(claimed.job.id)
            if order.count == 4 { break }
        }
        // alice's urgent job first among hers; bob's turn comes between alice's claims.
        #expect(order.first(where: { $0 != other.id }) == urgent.id, "\(order)")
        #expect(order.filter { $0 == other.id }.count == 2, "bob keeps his share: \(order)")
        #expect(order.firstIndex(of: big.id).map { $0 > order.firstIndex(of: urgent.id)! } ?? true)
    }
}

/// A key's weight, quota and the usage ledger, on both drivers.
@Suite struct KeyControlTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)  // 2027-01-15T08:00:00Z

    func key(_ id: String, user: String, weight: Int = 1, quota: KeyQuota = KeyQuota()) -> APIKeyRecord {
        APIKeyRecord(
            id: id, user: user, isAdmin: false, hash: "hash-" + id, prefix: "sk-" + id, createdAt: t0, weight: weight, quota: quota)
    }

    @Test(arguments: StoreDriver.available)
    func anOwnerWhoseKeyWeighsThreeGetsThreeCallsForOne(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        try await store.keys.createKey(key("light", user: "alice"))
        try await store.keys.createKey(key("heavy", user: "bob", weight: 3))
        let spec = try Fixtures.spec(["template": "{{text}}", "batch_size": 1])
        let alice = try await Fixtures.queuedJob(in: store, count: 100, spec: spec, keyID: "light", now: t0)
        _ = try await Fixtures.queuedJob(in: store, count: 100, spec: spec, owner: "bob", keyID: "heavy", now: t0)
        var calls: [String: Int] = [:]
        for _ in 0..<40 {
            let claimed = try #require(try await store.claim(owner: "w", limit: 1, leaseDuration: 30, now: t0))
            calls[claimed.job.owner, default: 0] += 1
        }
        #expect(calls["alice"] == 10 && calls["bob"] == 30, "\(calls)")
        #expect(try await store.job(id: alice.id)?.status == .running)
    }

    @Test(arguments: StoreDriver.available)
    func anOwnerComingBackJoinsTheShareWithoutCreditForTheTimeAway(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let spec = try Fixtures.spec(["template": "{{text}}", "batch_size": 1])
        _ = try await Fixtures.queuedJob(in: store, count: 100, spec: spec, now: t0)
        // bob is served once, then has nothing to do while alice is served 30 times.
        _ = try await Fixtures.queuedJob(in: store, count: 1, spec: spec, owner: "bob", now: t0)
        var owners: [String] = []
        for _ in 0..<31 { owners.append(try #require(try await store.claim(owner: "w", limit: 1, leaseDuration: 30, now: t0)).job.owner) }
        #expect(owners.filter { $0 == "bob" }.count == 1, "\(owners)")
        // bob's next job takes turns with alice's: not 30 calls in a row to catch up.
        _ = try await Fixtures.queuedJob(in: store, count: 50, spec: spec, owner: "bob", now: t0)
        owners = []
        for _ in 0..<10 { owners.append(try #require(try await store.claim(owner: "w", limit: 1, leaseDuration: 30, now: t0)).job.owner) }
        #expect(owners.filter { $0 == "bob" }.count <= 6 && owners.filter { $0 == "bob" }.count >= 4, "\(owners)")
    }

    @Test(arguments: StoreDriver.available)
    func aKeysDailyTokenQuotaPausesItsJobUntilTheDayRolls(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        try await store.keys.createKey(key("capped", user: "alice", quota: KeyQuota(tokensPerDay: 100)))
        let spec = try Fixtures.spec(["template": "{{text}}", "batch_size": 1])
        let job = try await Fixtures.queuedJob(in: store, count: 10, spec: spec, keyID: "capped", now: t0)
        let other = try await Fixtures.queuedJob(in: store, count: 10, spec: spec, owner: "bob", now: t0)
        // Two calls of alice's in flight; both answers land, spending 120 tokens: past the limit
        // by what was in flight, never more.
        var mine: [ClaimedBatch] = []
        while mine.count < 2 {
            let claimed = try #require(try await store.claim(owner: "w", limit: 1, leaseDuration: 30, now: t0))
            if claimed.job.id == job.id { mine.append(claimed) }
        }
        for claimed in mine {
            var outcome = ItemOutcome(
                itemID: claimed.items[0].id, result: .succeeded("ok"), usage: TokenUsage(promptTokens: 50, completionTokens: 10), calls: 1,
                costMicros: 7)
            outcome.provider = "openai"
            outcome.model = "gpt-4o-mini"
            _ = try await store.record([outcome], owner: "w", now: t0)
        }
        // The next claims serve bob only; alice's job pauses with the quota's reason.
        for _ in 0..<3 {
            let claimed = try await store.claim(owner: "w", limit: 1, leaseDuration: 30, now: t0)
            #expect(claimed?.job.id == other.id)
        }
        let paused = try #require(try await store.job(id: job.id))
        #expect(paused.status == .paused)
        #expect(paused.statusReason?.hasPrefix(KeyQuota.reasonPrefix) == true, "\(paused.statusReason ?? "")")
        #expect(paused.statusReason?.contains("100 tokens per day") == true)
        // Still the same day: nothing resumes. The next UTC day: it resumes by itself.
        #expect(try await store.resumeQuotaPaused(now: t0.addingTimeInterval(3600)).isEmpty)
        let midnight = UsageWindow(t0).dayEnd
        #expect(try await store.resumeQuotaPaused(now: midnight) == [job.id])
        let resumed = try #require(try await store.claim(owner: "w", limit: 1, leaseDuration: 30, now: midnight))
        #expect(resumed.job.id == job.id || resumed.job.id == other.id)
        #expect(try await store.job(id: job.id)?.status == .running)
    }

    @Test(arguments: StoreDriver.available)
    func aMonthlyCostQuotaHoldsPastMidnight(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        try await store.keys.createKey(key("monthly", user: "alice", quota: KeyQuota(costMicrosPerDay: 1_000_000, costMicrosPerMonth: 5)))
        let spec = try Fixtures.spec(["template": "{{text}}", "batch_size": 1])
        let job = try await Fixtures.queuedJob(in: store, count: 3, spec: spec, keyID: "monthly", now: t0)
        let claimed = try #require(try await store.claim(owner: "w", limit: 1, leaseDuration: 30, now: t0))
        var outcome = ItemOutcome(itemID: claimed.items[0].id, result: .succeeded("ok"), calls: 1, costMicros: 9)
        outcome.provider = "openai"
        _ = try await store.record([outcome], owner: "w", now: t0)
        #expect(try await store.claim(owner: "w", limit: 1, leaseDuration: 30, now: t0) == nil)
        let paused = try #require(try await store.job(id: job.id))
        #expect(paused.status == .paused && paused.statusReason?.contains("USD per month") == true, "\(paused.statusReason ?? "")")
        // The day rolls but the month has not: resumed, it pauses again at its next claim.
        #expect(try await store.resumeQuotaPaused(now: UsageWindow(t0).dayEnd).isEmpty)
        #expect(try await store.resumeQuotaPaused(now: UsageWindow(t0).monthEnd) == [job.id])
    }

    @Test(arguments: StoreDriver.available)
    func theUsageLedgerAddsUpToTheJobsUsage(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let spec = try Fixtures.spec(["template": "{{text}}", "batch_size": 3])
        let jobs = [
            try await Fixtures.queuedJob(in: store, count: 6, spec: spec, now: t0),
            try await Fixtures.queuedJob(in: store, count: 6, spec: spec, owner: "bob", now: t0),
        ]
        var day = t0
        while let claimed = try await store.claim(owner: "w", limit: 4, leaseDuration: 30, now: day) {
            let outcomes = claimed.items.enumerated().map { index, item in
                var outcome = ItemOutcome(
                    itemID: item.id, result: .succeeded("ok"),
                    usage: TokenUsage(promptTokens: 11 + index, completionTokens: 3, cachedTokens: index), calls: index == 0 ? 1 : 0,
                    costMicros: index == 0 ? 13 : 0)
                outcome.provider = index == 1 ? "anthropic" : "openai"
                outcome.model = "m\(index % 2)"
                return outcome
            }
            _ = try await store.record(outcomes, owner: "w", now: day)
            day = day.addingTimeInterval(30_000)  // the calls spread over several days
        }
        let rows = try await store.usage.usage(user: nil, from: "2027-01-01", through: "2027-01-31")
        #expect(Set(rows.map(\.day)).count > 1 && Set(rows.map(\.provider)) == ["openai", "anthropic"])
        var jobTokens = 0
        var jobCost: Int64 = 0
        var jobCalls = 0
        for job in jobs {
            let done = try #require(try await store.job(id: job.id))
            jobTokens += done.usage.promptTokens + done.usage.completionTokens + done.usage.cachedTokens
            jobCost += done.costMicros
            jobCalls += done.calls
        }
        #expect(rows.reduce(0) { $0 + $1.promptTokens + $1.completionTokens + $1.cachedTokens } == Int64(jobTokens))
        #expect(rows.reduce(0) { $0 + $1.costMicros } == jobCost && rows.reduce(0) { $0 + $1.calls } == Int64(jobCalls))
        let bobs = try await store.usage.usage(user: "bob", from: "2027-01-01", through: "2027-01-31")
        #expect(!bobs.isEmpty && bobs.allSatisfy { $0.user == "bob" })
    }
}

/// A job's deadline: served first among its owner's equals, and expired when it passes.
@Suite struct JobDeadlineTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test(arguments: StoreDriver.available)
    func theNearestDeadlineGoesFirstAndAPassedOneExpiresWhatIsLeft(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let relaxed = try await Fixtures.queuedJob(
            in: store, count: 4, spec: Fixtures.spec(["template": "{{text}}", "batch_size": 1]), now: t0)
        let late = try await Fixtures.queuedJob(
            in: store, count: 4, spec: Fixtures.spec(["template": "{{text}}", "batch_size": 1, "deadline": "1d"]), now: t0)
        let soon = try await Fixtures.queuedJob(
            in: store, count: 4, spec: Fixtures.spec(["template": "{{text}}", "batch_size": 1, "deadline": "1h"]), now: t0)
        #expect(soon.expiresAt == t0.addingTimeInterval(3_600) && relaxed.expiresAt == nil)
        let first = try #require(try await store.claim(owner: "w", limit: 1, leaseDuration: 30, now: t0))
        #expect(first.job.id == soon.id, "the nearest deadline first")
        _ = try await store.record([ItemOutcome(itemID: first.items[0].id, result: .succeeded("kept"))], owner: "w", now: t0)
        let running = try #require(try await store.claim(owner: "w", limit: 1, leaseDuration: 30, now: t0))
        #expect(running.job.id == soon.id)
        // An hour on: the job stops; its pending items are expired, its running one comes back.
        let later = t0.addingTimeInterval(3_601)
        #expect(try await store.expireOverdueJobs(now: later) == [soon.id])
        _ = try await store.record([ItemOutcome(itemID: running.items[0].id, result: .succeeded("late"))], owner: "w", now: later)
        let ended = try #require(try await store.job(id: soon.id))
        #expect(ended.status == .expired && ended.counts.succeeded == 2 && ended.counts.cancelled == 2, "\(ended.counts)")
        let items = try await store.items(jobID: soon.id, status: nil, afterIndex: -1, limit: 10)
        #expect(items.filter { $0.status == .succeeded }.map(\.output) == ["kept", "late"], "partial results kept")
        #expect(items.filter { $0.status == .cancelled }.allSatisfy { $0.error?.hasPrefix("expired:") == true })
        // The next deadline comes next; the job without one last.
        #expect(try await store.claim(owner: "w", limit: 1, leaseDuration: 30, now: later)?.job.id == late.id)
    }
}
