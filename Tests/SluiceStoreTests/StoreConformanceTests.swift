import Foundation
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing

/// The one suite every JobStore driver must pass.
@Suite struct StoreConformanceTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// Each outcome's tokens: some read from the prompt cache, some written to it, some spent reasoning.
    let usage = TokenUsage(promptTokens: 3, completionTokens: 2, cachedTokens: 2, cacheWriteTokens: 1, reasoningTokens: 1)

    func succeeded(_ ids: [Int64], output: JSONValue = "ok") -> [ItemOutcome] {
        ids.map {
            var outcome = ItemOutcome(itemID: $0, result: .succeeded(output), usage: usage, model: "m")
            outcome.finishReason = "length"
            return outcome
        }
    }

    @Test(arguments: StoreDriver.available)
    func theNextUploadReadIsOfTheUserWithFewestBeingRead(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let spec = Fixtures.spec()
        let alices = try await store.createJob(NewJob(owner: "alice", name: "a1", spec: spec, sources: []), now: t0)
        let alicesSecond = try await store.createJob(NewJob(owner: "alice", name: "a2", spec: spec, sources: []), now: t0)
        let bobs = try await store.createJob(NewJob(owner: "bob", name: "b1", spec: spec, sources: []), now: t0)
        #expect(try await store.leaseIngest(owner: "r1", leaseDuration: 30, now: t0)?.id == alices.id, "the oldest first")
        #expect(try await store.leaseIngest(owner: "r2", leaseDuration: 30, now: t0)?.id == bobs.id, "bob's before alice's second")
        #expect(try await store.leaseIngest(owner: "r3", leaseDuration: 30, now: t0)?.id == alicesSecond.id)
        #expect(try await store.leaseIngest(owner: "r4", leaseDuration: 30, now: t0) == nil)
    }

    /// The migrations' `CHECK` lists are frozen text: a status added to an enum needs a
    /// migration that admits it, and this fails until it has one.
    @Test(arguments: StoreDriver.available)
    func theSchemaAdmitsEveryStatusAndNothingElse(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let job = try await Fixtures.queuedJob(in: store, count: 1, now: t0)
        for status in JobStatus.allCases {
            try await store.database.write { tx in
                _ = try tx.execute("UPDATE jobs SET status = ? WHERE id = ?", [.text(status.rawValue), .text(job.id)])
            }
        }
        for status in ItemStatus.allCases {
            try await store.database.write { tx in
                // A running item is leased, and only a running one (another CHECK).
                let leased: [SQLValue] = status == .running ? [.text("w"), .double(1)] : [.null, .null]
                _ = try tx.execute(
                    "UPDATE items SET status = ?, lease_owner = ?, lease_expires_at = ? WHERE job_seq = (SELECT seq FROM jobs WHERE id = ?)",
                    [.text(status.rawValue)] + leased + [.text(job.id)])
            }
        }
        await #expect(throws: (any Error).self) {
            try await store.database.write { tx in
                _ = try tx.execute("UPDATE jobs SET status = 'unheard_of' WHERE id = ?", [.text(job.id)])
            }
        }
    }

    @Test(arguments: StoreDriver.available)
    func anOutcomeOfAnEarlierAttemptIsNotRecorded(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        _ = try await Fixtures.queuedJob(in: store, count: 1, now: t0)
        let item = try #require(try await store.claim(owner: "w", limit: 1, leaseDuration: 30, now: t0)?.items.first)
        #expect(item.attempts == 1)
        var stale = ItemOutcome(itemID: item.id, result: .succeeded("late"))
        stale.attempt = 0
        #expect(try await store.record([stale], owner: "w", now: t0).ids.isEmpty, "an answer to another attempt is dropped")
        var current = ItemOutcome(itemID: item.id, result: .succeeded("now"))
        current.attempt = 1
        #expect(try await store.record([current], owner: "w", now: t0).ids == [item.id])
    }

    @Test(arguments: StoreDriver.available)
    func aGeneratedFilesSizeIsKeptUnderItsEtag(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let job = try await Fixtures.queuedJob(in: store, count: 1, now: t0)
        #expect(try await store.outputSize(jobID: job.id, kind: "output", etag: "e1") == nil)
        try await store.setOutputSize(jobID: job.id, kind: "output", etag: "e1", bytes: 1_234)
        #expect(try await store.outputSize(jobID: job.id, kind: "output", etag: "e1") == 1_234)
        #expect(try await store.outputSize(jobID: job.id, kind: "output", etag: "e2") == nil, "measured at another ending")
        try await store.setOutputSize(jobID: job.id, kind: "output", etag: "e2", bytes: 99)
        #expect(try await store.outputSize(jobID: job.id, kind: "output", etag: "e2") == 99)
        try await store.setOutputSize(jobID: "job_gone", kind: "output", etag: "e1", bytes: 1)
        #expect(try await store.outputSize(jobID: "job_gone", kind: "output", etag: "e1") == nil)
    }

    @Test(arguments: StoreDriver.available)
    func createAppendAndFinishValidation(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let job = try await store.createJob(NewJob(owner: "alice", name: "n", spec: Fixtures.spec(), sources: []), now: t0)
        #expect(job.status == .validating)
        let leased = try await store.leaseIngest(owner: "reader", leaseDuration: 30, now: t0)
        #expect(leased?.id == job.id)
        try await store.appendItems(
            jobID: job.id, owner: "reader",
            items: (0..<2500).map { NewItem(index: $0, groupKey: nil, input: JSONObject([("z", .int($0)), ("a", "x\t\\n\n")])) })
        try await store.appendItems(
            jobID: job.id, owner: "reader", items: [NewItem(index: 2500, groupKey: "g", input: JSONObject([("z", 1)]))])
        let validating = try await store.job(id: job.id)
        #expect(validating?.counts == JobCounts(total: 2501, pending: 2501))
        #expect(try await store.claim(owner: "w", limit: 10, leaseDuration: 30, now: t0) == nil, "a validating job is not claimable")
        let queued = try await store.finishValidation(jobID: job.id, owner: "reader", now: t0)
        #expect(queued.status == .queued)
        let page = try await store.items(jobID: job.id, status: nil, afterIndex: 2497, limit: 10)
        #expect(page.map(\.index) == [2498, 2499, 2500])
        #expect(page[0].input.keys == ["z", "a"])
        #expect(page[0].input["a"] == "x\t\\n\n", "text survives the bulk insert byte for byte")
        #expect(page[2].groupKey == "g")
        #expect(page[1].groupKey == nil)
    }

    @Test(arguments: StoreDriver.available)
    func failedValidationLeavesNoItems(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let job = try await Fixtures.validatingJob(in: store, now: t0)
        let reader = Fixtures.ingestor
        try await store.appendItems(jobID: job.id, owner: reader, items: [NewItem(index: 0, groupKey: nil, input: JSONObject())])
        let failed = try await store.failValidation(
            jobID: job.id, owner: reader, errors: [JobErrorEntry(line: 3, column: 2, message: "bad")], now: t0)
        #expect(failed.status == .failed)
        #expect(failed.counts == JobCounts())
        #expect(failed.errors == [JobErrorEntry(line: 3, column: 2, message: "bad")])
        #expect(failed.finishedAt == t0)
        #expect(try await store.items(jobID: job.id, status: nil, afterIndex: -1, limit: 10).isEmpty)
        await #expect(throws: StoreError.invalidTransition(jobID: job.id, from: .failed, action: "add items to")) {
            try await store.appendItems(jobID: job.id, owner: reader, items: [NewItem(index: 1, groupKey: nil, input: JSONObject())])
        }
    }

    @Test(arguments: StoreDriver.available)
    func restartValidationDropsPartialItems(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let job = try await Fixtures.validatingJob(in: store, fingerprint: "fp", now: t0)
        try await store.appendItems(jobID: job.id, owner: Fixtures.ingestor, items: [NewItem(index: 0, groupKey: nil, input: JSONObject())])
        try await store.restartValidation(jobID: job.id, owner: Fixtures.ingestor)
        #expect(try await store.job(id: job.id)?.counts.total == 0)
        #expect(try await store.job(fingerprint: "fp")?.id == job.id)
    }

    @Test(arguments: StoreDriver.available)
    func anIngestIsLeasedToOneReaderAndTakenOverWhenItsLeaseRunsOut(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let first = try await store.createJob(NewJob(owner: "a", name: "1", spec: Fixtures.spec(), sources: []), now: t0)
        let second = try await store.createJob(NewJob(owner: "a", name: "2", spec: Fixtures.spec(), sources: []), now: t0)
        #expect(try await store.leaseIngest(owner: "p1", leaseDuration: 30, now: t0)?.id == first.id)
        #expect(
            try await store.leaseIngest(owner: "p2", leaseDuration: 30, now: t0)?.id == second.id, "a held upload is not handed out twice")
        #expect(try await store.leaseIngest(owner: "p3", leaseDuration: 30, now: t0) == nil)
        try await store.appendItems(jobID: first.id, owner: "p1", items: [NewItem(index: 0, groupKey: nil, input: JSONObject())])
        await #expect(throws: StoreError.self) {
            try await store.appendItems(jobID: first.id, owner: "p2", items: [NewItem(index: 1, groupKey: nil, input: JSONObject())])
        }
        #expect(try await store.extendIngest(jobID: first.id, owner: "p1", until: t0.addingTimeInterval(40)))
        #expect(try await !store.extendIngest(jobID: first.id, owner: "p2", until: t0.addingTimeInterval(40)))

        // p1 stalls past its lease: p3 takes the job over, and from then on p1 is refused.
        let later = t0.addingTimeInterval(41)
        #expect(try await store.leaseIngest(owner: "p3", leaseDuration: 30, now: later)?.id == first.id)
        try await store.restartValidation(jobID: first.id, owner: "p3")
        await #expect(throws: StoreError.self) {
            try await store.appendItems(jobID: first.id, owner: "p1", items: [NewItem(index: 1, groupKey: nil, input: JSONObject())])
        }
        await #expect(throws: StoreError.self) { _ = try await store.finishValidation(jobID: first.id, owner: "p1", now: later) }
        #expect(try await !store.extendIngest(jobID: first.id, owner: "p1", until: later.addingTimeInterval(30)))
        try await store.appendItems(jobID: first.id, owner: "p3", items: [NewItem(index: 0, groupKey: nil, input: JSONObject())])
        let queued = try await store.finishValidation(jobID: first.id, owner: "p3", now: later)
        #expect(queued.status == .queued)
        #expect(queued.counts == JobCounts(total: 1, pending: 1), "only the holder's items count, once")
    }

    @Test(arguments: StoreDriver.available)
    func claimTakesAtMostBatchSizeAndCountsAnAttempt(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let job = try await Fixtures.queuedJob(
            in: store, count: 10, spec: Fixtures.spec(["template": "{{text}}", "batch_size": 4]), now: t0)
        let first = try #require(try await store.claim(owner: "w", limit: 100, leaseDuration: 30, now: t0))
        #expect(first.items.map(\.index) == [0, 1, 2, 3])
        #expect(first.items.allSatisfy { $0.attempts == 1 && $0.status == .running && $0.leaseOwner == "w" })
        #expect(first.leaseExpiresAt == t0.addingTimeInterval(30))
        let second = try #require(try await store.claim(owner: "w", limit: 2, leaseDuration: 30, now: t0))
        #expect(second.items.map(\.index) == [4, 5])
        let after = try #require(try await store.job(id: job.id))
        #expect(after.status == .running)
        #expect(after.startedAt == t0)
        #expect(after.counts == JobCounts(total: 10, pending: 4, running: 6))
    }

    @Test(arguments: StoreDriver.available)
    func aClaimTakesNoMoreForAJobThanItsProvidersAllowance(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let slow = try await Fixtures.queuedJob(
            in: store, count: 10, spec: Fixtures.spec(["template": "{{text}}", "provider": "slow", "batch_size": 10]), now: t0)
        let fast = try await Fixtures.queuedJob(
            in: store, count: 10, spec: Fixtures.spec(["template": "{{text}}", "provider": "fast", "batch_size": 10]), owner: "bob",
            now: t0)
        let routed = try await Fixtures.queuedJob(
            in: store, count: 10, spec: Fixtures.spec(["template": "{{text}}", "provider": "auto", "model": "m", "batch_size": 10]),
            owner: "carol", now: t0)
        let allowance = ClaimAllowance(byProvider: ["slow": 0, "fast": 3], routed: 2)
        // The slow provider's job is first in fair order, but its provider can start nothing soon.
        let first = try #require(try await store.claim(owner: "w", limit: 8, allowance: allowance, leaseDuration: 30, now: t0))
        #expect(first.job.id == fast.id && first.items.count == 3)
        let second = try #require(try await store.claim(owner: "w", limit: 8, allowance: allowance, leaseDuration: 30, now: t0))
        #expect(second.job.id == routed.id && second.items.count == 2, "a routed job takes the routed cap")
        let unnamed = try #require(
            try await store.claim(owner: "w", limit: 8, allowance: ClaimAllowance(byProvider: ["fast": 0]), leaseDuration: 30, now: t0))
        #expect(unnamed.job.id == slow.id && unnamed.items.count == 8, "a provider not named is capped by the limit alone")
        #expect(
            try await store.claim(
                owner: "w", limit: 8, allowance: ClaimAllowance(byProvider: ["slow": 0, "fast": 0], routed: 0), leaseDuration: 30, now: t0)
                == nil)
    }

    @Test(arguments: StoreDriver.available)
    func aClaimIsSizedInCallsForAJobThatPacksRows(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        _ = try await Fixtures.queuedJob(
            in: store, count: 30, spec: Fixtures.spec(["template": "{{text}}", "batch_size": 25, "items_per_request": 5]), now: t0)
        let two = try #require(try await store.claim(owner: "w", limit: 2, leaseDuration: 30, now: t0))
        #expect(two.items.map(\.index) == Array(0..<10), "two calls of five rows")
        let capped = try #require(try await store.claim(owner: "w", limit: 100, leaseDuration: 30, now: t0))
        #expect(capped.items.count == 20, "never more than the rest, nor batch_size")
    }

    @Test(arguments: StoreDriver.available)
    func aDeadOwnersLeasesAreTakenBackWithTheirAttemptSpent(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let spec = Fixtures.spec(["template": "{{text}}", "max_attempts": 1])
        let job = try await Fixtures.queuedJob(in: store, count: 5, spec: spec, now: t0)
        let dead = try #require(try await store.claim(owner: "dead", limit: 3, leaseDuration: 3_600, now: t0))
        _ = try #require(try await store.claim(owner: "alive", limit: 1, leaseDuration: 3_600, now: t0))
        #expect(Set(try await store.leaseOwners()) == ["dead", "alive"])
        #expect(try await store.releaseLeases(owner: "dead", reason: "its worker stopped", now: t0) == 3)
        #expect(try await store.leaseOwners() == ["alive"])
        let items = try await store.items(jobID: job.id, status: nil, afterIndex: -1, limit: 10)
        // One attempt allowed and spent: they fail rather than loop, as a lost lease does.
        #expect(items.filter { dead.items.map(\.id).contains($0.id) }.allSatisfy { $0.status == .failed })
        #expect(items.first { $0.status == .failed }?.error == "its worker stopped on the last of 1 attempts")
        let after = try #require(try await store.job(id: job.id))
        #expect(after.counts == JobCounts(total: 5, pending: 1, running: 1, failed: 3))
    }

    @Test(arguments: StoreDriver.available)
    func groupsRunStrictlyInOrder(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        // Items 0-2 are group A, 3 is group B, 4 has no group.
        let job = try await Fixtures.queuedJob(in: store, count: 5, groups: { $0 < 3 ? "A" : ($0 == 3 ? "B" : nil) }, now: t0)
        let first = try #require(try await store.claim(owner: "w", limit: 10, leaseDuration: 30, now: t0))
        #expect(first.items.map(\.index) == [0, 3, 4])
        #expect(try await store.claim(owner: "w", limit: 10, leaseDuration: 30, now: t0) == nil, "group A is busy")
        _ = try await store.record(succeeded([first.items[0].id]), owner: "w", now: t0)
        let second = try #require(try await store.claim(owner: "w", limit: 10, leaseDuration: 30, now: t0))
        #expect(second.items.map(\.index) == [1])
        // A retry of item 1 keeps item 2 waiting behind it.
        _ = try await store.record([ItemOutcome(itemID: second.items[0].id, result: .retry("flaky", notBefore: t0))], owner: "w", now: t0)
        let third = try #require(try await store.claim(owner: "w", limit: 10, leaseDuration: 30, now: t0))
        #expect(third.items.map(\.index) == [1])
        #expect(third.items[0].attempts == 2)
        let history = try await store.groupHistory(jobID: job.id, groupKey: "A", beforeIndex: 2)
        #expect(history.map(\.index) == [0])
    }

    @Test(arguments: StoreDriver.available)
    func anExpiredLeaseGoesToTheNextOwnerAndTheOldOwnerCannotWrite(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let job = try await Fixtures.queuedJob(in: store, count: 1, now: t0)
        let first = try #require(try await store.claim(owner: "old", limit: 10, leaseDuration: 30, now: t0))
        let id = first.items[0].id
        #expect(try await store.reclaimExpiredLeases(now: t0.addingTimeInterval(29)) == 0)
        #expect(try await store.reclaimExpiredLeases(now: t0.addingTimeInterval(31)) == 1)
        #expect(try await store.job(id: job.id)?.counts == JobCounts(total: 1, pending: 1))
        let second = try #require(try await store.claim(owner: "new", limit: 10, leaseDuration: 30, now: t0.addingTimeInterval(32)))
        #expect(second.items[0].attempts == 2)
        #expect(try await store.record(succeeded([id], output: "stale"), owner: "old", now: t0.addingTimeInterval(33)).ids.isEmpty)
        #expect(try await store.extendLeases(itemIDs: [id], owner: "old", until: t0.addingTimeInterval(90)).isEmpty)
        #expect(try await store.record(succeeded([id], output: "fresh"), owner: "new", now: t0.addingTimeInterval(34)).ids == [id])
        let item = try await store.items(jobID: job.id, status: nil, afterIndex: -1, limit: 1)[0]
        #expect(item.output == "fresh")
        #expect(item.status == .succeeded)
        #expect(item.usage == usage && item.finishReason == "length", "the item keeps its tokens by kind, and how its reply ended")
        let done = try #require(try await store.job(id: job.id))
        #expect(done.status == .completed)
        #expect(done.counts == JobCounts(total: 1, succeeded: 1))
        #expect(done.usage == usage, "the job sums every kind of token")
    }

    @Test(arguments: StoreDriver.available)
    func heartbeatsKeepALease(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        _ = try await Fixtures.queuedJob(in: store, count: 2, now: t0)
        let batch = try #require(try await store.claim(owner: "w", limit: 10, leaseDuration: 30, now: t0))
        let ids = batch.items.map(\.id)
        #expect(try await store.extendLeases(itemIDs: ids, owner: "w", until: t0.addingTimeInterval(60)) == Set(ids))
        #expect(try await store.reclaimExpiredLeases(now: t0.addingTimeInterval(45)) == 0)
        #expect(try await store.reclaimExpiredLeases(now: t0.addingTimeInterval(61)) == 2)
    }

    @Test(arguments: StoreDriver.available)
    func releaseRefundsTheAttemptAndRetriesWaitTheirTurn(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        _ = try await Fixtures.queuedJob(in: store, count: 2, now: t0)
        let batch = try #require(try await store.claim(owner: "w", limit: 10, leaseDuration: 30, now: t0))
        try await store.release(itemIDs: [batch.items[0].id], owner: "w", now: t0)
        _ = try await store.record(
            [ItemOutcome(itemID: batch.items[1].id, result: .retry("429", notBefore: t0.addingTimeInterval(10)))], owner: "w", now: t0)
        let again = try #require(try await store.claim(owner: "w", limit: 10, leaseDuration: 30, now: t0))
        #expect(again.items.map(\.index) == [0])
        #expect(again.items[0].attempts == 1, "a released item had no call made")
        let later = try #require(try await store.claim(owner: "w", limit: 10, leaseDuration: 30, now: t0.addingTimeInterval(10)))
        #expect(later.items.map(\.index) == [1])
        #expect(later.items[0].error == "429")
    }

    @Test(arguments: StoreDriver.available)
    func aLostLeaseOnTheLastAttemptFailsTheItem(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let job = try await Fixtures.queuedJob(
            in: store, count: 1, spec: Fixtures.spec(["template": "{{text}}", "max_attempts": 1]), now: t0)
        _ = try await store.claim(owner: "w", limit: 10, leaseDuration: 30, now: t0)
        #expect(try await store.reclaimExpiredLeases(now: t0.addingTimeInterval(31)) == 1)
        let failed = try #require(try await store.job(id: job.id))
        #expect(failed.status == .failed)
        #expect(failed.counts == JobCounts(total: 1, failed: 1))
        #expect(failed.errors.first?.item == 0)
    }

    @Test(arguments: StoreDriver.available)
    func outcomesSetTheFinalStatusExactlyOnce(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let job = try await Fixtures.queuedJob(in: store, count: 3, now: t0)
        let batch = try #require(try await store.claim(owner: "w", limit: 10, leaseDuration: 30, now: t0))
        let ids = batch.items.map(\.id)
        _ = try await store.record(succeeded([ids[0]]) + [ItemOutcome(itemID: ids[1], result: .failed("bad output"))], owner: "w", now: t0)
        #expect(try await store.job(id: job.id)?.status == .running)
        _ = try await store.record(succeeded([ids[2]]), owner: "w", now: t0.addingTimeInterval(5))
        let done = try #require(try await store.job(id: job.id))
        #expect(done.status == .completedWithErrors)
        #expect(done.finishedAt == t0.addingTimeInterval(5))
        #expect(done.errors == [JobErrorEntry(item: 1, message: "bad output")])
        // A second outcome for a finished item changes nothing.
        #expect(try await store.record(succeeded([ids[1]]), owner: "w", now: t0.addingTimeInterval(9)) == RecordedOutcomes())
        #expect(try await store.job(id: job.id) == done)
        await #expect(throws: StoreError.invalidTransition(jobID: job.id, from: .completedWithErrors, action: "cancel")) {
            try await store.cancel(jobID: job.id, now: t0)
        }
        await #expect(throws: StoreError.jobNotFound("job_missing")) { try await store.cancel(jobID: "job_missing", now: t0) }
    }

    @Test(arguments: StoreDriver.available)
    func cancelStopsPendingItemsAndWaitsForRunningOnes(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let job = try await Fixtures.queuedJob(
            in: store, count: 5, spec: Fixtures.spec(["template": "{{text}}", "batch_size": 2]), now: t0)
        let batch = try #require(try await store.claim(owner: "w", limit: 10, leaseDuration: 30, now: t0))
        let cancelling = try await store.cancel(jobID: job.id, now: t0)
        #expect(cancelling.status == .cancelling)
        #expect(cancelling.counts == JobCounts(total: 5, running: 2, cancelled: 3))
        #expect(try await store.claim(owner: "w", limit: 10, leaseDuration: 30, now: t0) == nil)
        _ = try await store.record(
            succeeded([batch.items[0].id]) + [ItemOutcome(itemID: batch.items[1].id, result: .retry("x", notBefore: t0))], owner: "w",
            now: t0)
        let cancelled = try #require(try await store.job(id: job.id))
        #expect(cancelled.status == .cancelled)
        #expect(cancelled.counts == JobCounts(total: 5, succeeded: 1, cancelled: 4))
    }

    @Test(arguments: StoreDriver.available)
    func pauseStopsClaimsUntilResume(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let job = try await Fixtures.queuedJob(in: store, count: 2, now: t0)
        let paused = try await store.pause(jobID: job.id, reason: "key refused", now: t0)
        #expect(paused.status == .paused)
        #expect(paused.statusReason == "key refused")
        #expect(try await store.claim(owner: "w", limit: 10, leaseDuration: 30, now: t0) == nil)
        let resumed = try await store.resume(jobID: job.id, now: t0)
        #expect(resumed.status == .queued)
        #expect(resumed.statusReason == nil)
        let batch = try #require(try await store.claim(owner: "w", limit: 10, leaseDuration: 30, now: t0))
        // Items in flight when a job is paused still come back and count.
        _ = try await store.pause(jobID: job.id, reason: nil, now: t0)
        _ = try await store.record(succeeded(batch.items.map(\.id)), owner: "w", now: t0)
        #expect(try await store.job(id: job.id)?.status == .completed)
        await #expect(throws: StoreError.invalidTransition(jobID: job.id, from: .completed, action: "pause")) {
            try await store.pause(jobID: job.id, reason: nil, now: t0)
        }
    }

    @Test(arguments: StoreDriver.available)
    func aSmallJobIsNotStarvedByABigOneSubmittedFirst(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let big = try await Fixtures.queuedJob(
            in: store, count: 1_000, spec: Fixtures.spec(["template": "{{text}}", "batch_size": 10]), owner: "alice", now: t0)
        let small = try await Fixtures.queuedJob(in: store, count: 10, owner: "bob", now: t0)
        var served: [String] = []
        for _ in 0..<4 {
            let batch = try #require(try await store.claim(owner: "w", limit: 10, leaseDuration: 30, now: t0))
            served.append(batch.job.id)
        }
        #expect(served == [big.id, small.id, big.id, big.id], "the small job is served on the second claim and then is empty")
    }

    @Test(arguments: StoreDriver.available)
    func claimsRotateAcrossOwnersBeforeJobs(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let spec = Fixtures.spec(["template": "{{text}}", "batch_size": 1])
        let first = try await Fixtures.queuedJob(in: store, count: 5, spec: spec, owner: "alice", now: t0)
        let second = try await Fixtures.queuedJob(in: store, count: 5, spec: spec, owner: "alice", now: t0)
        let bob = try await Fixtures.queuedJob(in: store, count: 5, spec: spec, owner: "bob", now: t0)
        var served: [String] = []
        for _ in 0..<4 {
            served.append(try #require(try await store.claim(owner: "w", limit: 10, leaseDuration: 30, now: t0)).job.id)
        }
        #expect(served == [first.id, bob.id, second.id, bob.id])
    }
}
