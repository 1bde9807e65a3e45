import Foundation
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing

/// What the HTTP API needs from every JobStore driver: lists, retry, delete, totals, files, keys.
@Suite struct StoreAPIConformanceTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    struct Abandoned: Error {}

    @Test(arguments: StoreDriver.available)
    func aTransactionThatThrowsLeavesNothingAndTheNextOneCommits(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let job = try await Fixtures.queuedJob(in: store, count: 1, now: t0)
        let rename = "UPDATE jobs SET name = ? WHERE id = ?"
        await #expect(throws: Abandoned.self) {
            try await store.database.write { tx in
                try tx.execute(rename, [.text("half-written"), .text(job.id)])
                throw Abandoned()
            }
        }
        // A statement the database refuses, after a change, undoes the change too.
        await #expect(throws: StoreError.self) {
            try await store.database.write { tx in
                try tx.execute(rename, [.text("half-written"), .text(job.id)])
                try tx.execute("INSERT INTO jobs (id) VALUES (?)", [.text(job.id)])
            }
        }
        #expect(try await store.job(id: job.id)?.name == "test")
        try await store.database.write { tx in _ = try tx.execute(rename, [.text("renamed"), .text(job.id)]) }
        #expect(try await store.job(id: job.id)?.name == "renamed")
    }

    @Test(arguments: StoreDriver.available)
    func storedColumnsThatDoNotDecodeAreAnErrorNotAnEmptyValue(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let job = try await Fixtures.queuedJob(in: store, count: 1, now: t0)
        let batch = try await store.createJob(
            NewJob(
                owner: "alice", name: "b", spec: Fixtures.spec(), sources: [],
                batch: BatchAttributes(inputFileID: "file-1", endpoint: "/v1/chat/completions", completionWindow: "24h", metadata: nil)),
            now: t0)
        for (id, column, garbage) in [(job.id, "sources", "[{\"path\": 1}]"), (job.id, "sources", "not json"), (batch.id, "batch", "{}")] {
            _ = try await store.database.write { tx in
                try tx.execute("UPDATE jobs SET \(column) = ? WHERE id = ?", [.text(garbage), .text(id)])
            }
            await #expect(throws: StoreError.corrupt(column == "batch" ? "batch attributes of job \(id)" : "sources of job \(id)")) {
                _ = try await store.job(id: id)
            }
        }
    }

    @Test(arguments: StoreDriver.available)
    func jobListsArePagedNewestFirstPerOwnerStatusAndKind(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        var ids: [String] = []
        for index in 0..<5 {
            let batch =
                index == 4
                ? BatchAttributes(inputFileID: "file-1", endpoint: "/v1/chat/completions", completionWindow: "24h", metadata: nil) : nil
            let job = try await store.createJob(
                NewJob(owner: index == 3 ? "bob" : "alice", name: "j\(index)", spec: Fixtures.spec(), sources: [], batch: batch), now: t0)
            ids.append(job.id)
        }
        let first = try await store.jobs(JobQuery(owner: "alice", limit: 2))
        #expect(first.map(\.id) == [ids[4], ids[2]])
        let second = try await store.jobs(JobQuery(owner: "alice", after: first.last?.id, limit: 2))
        #expect(second.map(\.id) == [ids[1], ids[0]])
        #expect(try await store.jobs(JobQuery(owner: nil, limit: 10)).count == 5)
        #expect(try await store.jobs(JobQuery(owner: "alice", kind: .batch, limit: 10)).map(\.id) == [ids[4]])
        #expect(try await store.jobs(JobQuery(owner: "alice", kind: .native, limit: 10)).count == 3)
        #expect(try await store.jobs(JobQuery(owner: nil, status: .queued, limit: 10)).isEmpty)
        #expect(try await store.jobs(JobQuery(owner: nil, after: "job_unknown", limit: 10)).isEmpty, "an unknown cursor matches nothing")
        let batch = try #require(try await store.job(id: ids[4])?.batch)
        #expect(batch.inputFileID == "file-1")
    }

    @Test(arguments: StoreDriver.available)
    func retryRequeuesFailedItemsWithFreshAttempts(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let job = try await Fixtures.queuedJob(
            in: store, count: 3, spec: Fixtures.spec(["template": "{{text}}", "max_attempts": 1]), now: t0)
        await #expect(throws: StoreError.self) { try await store.retryFailed(jobID: job.id, now: t0) }
        let batch = try #require(try await store.claim(owner: "w", limit: 10, leaseDuration: 30, now: t0))
        _ = try await store.record(
            [
                ItemOutcome(itemID: batch.items[0].id, result: .succeeded("ok")),
                ItemOutcome(itemID: batch.items[1].id, result: .failed("bad")),
                ItemOutcome(itemID: batch.items[2].id, result: .failed("bad")),
            ], owner: "w", now: t0)
        #expect(try await store.job(id: job.id)?.status == .completedWithErrors)
        let retried = try await store.retryFailed(jobID: job.id, now: t0)
        #expect(retried.status == .running)
        #expect(retried.finishedAt == nil)
        #expect(retried.counts == JobCounts(total: 3, pending: 2, succeeded: 1))
        let again = try #require(try await store.claim(owner: "w", limit: 10, leaseDuration: 30, now: t0))
        #expect(again.items.map(\.index) == [1, 2])
        #expect(again.items.allSatisfy { $0.attempts == 1 && $0.error == nil })
        _ = try await store.record(again.items.map { ItemOutcome(itemID: $0.id, result: .succeeded("ok")) }, owner: "w", now: t0)
        #expect(try await store.job(id: job.id)?.status == .completed)
    }

    @Test(arguments: StoreDriver.available)
    func deleteRemovesTheJobAndItsItems(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let job = try await Fixtures.queuedJob(in: store, count: 4, now: t0)
        let batch = try #require(try await store.claim(owner: "w", limit: 2, leaseDuration: 30, now: t0))
        try await store.deleteJob(jobID: job.id)
        #expect(try await store.job(id: job.id) == nil)
        #expect(
            try await store.record([ItemOutcome(itemID: batch.items[0].id, result: .succeeded("late"))], owner: "w", now: t0).ids.isEmpty)
        #expect(try await store.claim(owner: "w", limit: 10, leaseDuration: 30, now: t0) == nil)
        await #expect(throws: StoreError.jobNotFound(job.id)) { try await store.deleteJob(jobID: job.id) }
    }

    @Test(arguments: StoreDriver.available)
    func jobsPastTheirWindowExpire(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let end = t0.addingTimeInterval(60)
        let running = try await store.createJob(NewJob(owner: "a", name: "r", spec: Fixtures.spec(), sources: [], expiresAt: end), now: t0)
        _ = try await store.takeIngest(jobID: running.id, owner: "i", leaseDuration: 60, now: t0)
        try await store.appendItems(
            jobID: running.id, owner: "i", items: (0..<4).map { NewItem(index: $0, groupKey: nil, input: JSONObject()) })
        _ = try await store.finishValidation(jobID: running.id, owner: "i", now: t0)
        let validating = try await store.createJob(
            NewJob(owner: "a", name: "v", spec: Fixtures.spec(), sources: [], expiresAt: end), now: t0)
        let unbounded = try await Fixtures.queuedJob(in: store, count: 1, now: t0)
        let leased = try #require(try await store.claim(owner: "w", limit: 1, leaseDuration: 300, now: t0))
        #expect(leased.job.id == running.id)

        #expect(try await store.expireOverdueJobs(now: end.addingTimeInterval(-1)).isEmpty)
        #expect(Set(try await store.expireOverdueJobs(now: end)) == [running.id, validating.id])
        #expect(try await store.job(id: validating.id)?.status == .expired)
        let stopping = try #require(try await store.job(id: running.id))
        #expect(stopping.status == .cancelling, "the leased item is still out")
        #expect(stopping.counts == JobCounts(total: 4, running: 1, cancelled: 3))
        _ = try await store.record([ItemOutcome(itemID: leased.items[0].id, result: .succeeded("ok"))], owner: "w", now: end)
        let ended = try #require(try await store.job(id: running.id))
        #expect(ended.status == .expired)
        #expect(ended.expiresAt == end)
        #expect(try await store.job(id: unbounded.id)?.status == .queued)
        #expect(try await store.expireOverdueJobs(now: end.addingTimeInterval(5)).isEmpty, "expired jobs stay expired")
    }

    @Test(arguments: StoreDriver.available)
    func censusCountsJobsByStatusAndOpenItems(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        try await store.checkReady()
        let running = try await Fixtures.queuedJob(in: store, count: 5, now: t0)
        _ = try await store.claim(owner: "w", limit: 2, leaseDuration: 30, now: t0)
        _ = try await store.createJob(NewJob(owner: "a", name: "v", spec: Fixtures.spec(), sources: []), now: t0)
        let census = try await store.census()
        #expect(census.jobsByStatus[.running] == 1)
        #expect(census.jobsByStatus[.validating] == 1)
        #expect(census.openItems.pending == 3)
        #expect(census.openItems.running == 2)
        _ = try await store.cancel(jobID: running.id, now: t0)
        #expect(try await store.census().openItems.pending == 0)
    }

    @Test(arguments: StoreDriver.available)
    func filesArePagedPerOwnerAndDeleted(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        for index in 0..<3 {
            try await store.files.createFile(
                StoredFile(
                    id: "file-\(index)", owner: index == 1 ? "bob" : "alice", filename: "f\(index).jsonl", purpose: "batch", bytes: index,
                    path: "/tmp/f\(index)", createdAt: t0))
        }
        #expect(
            try await store.files.files(owner: "alice", purpose: nil, after: nil, limit: 10, oldestFirst: false).map(\.id) == [
                "file-2", "file-0",
            ])
        #expect(
            try await store.files.files(owner: nil, purpose: "batch", after: "file-2", limit: 1, oldestFirst: false).map(\.id) == ["file-1"]
        )
        #expect(
            try await store.files.files(owner: nil, purpose: nil, after: "file-0", limit: 5, oldestFirst: true).map(\.id) == [
                "file-1", "file-2",
            ])
        #expect(try await store.files.files(owner: nil, purpose: "vision", after: nil, limit: 10, oldestFirst: false).isEmpty)
        #expect(try await store.files.file(id: "file-1")?.owner == "bob")
        #expect(try await store.files.deleteFile(id: "file-1"))
        #expect(try await store.files.deleteFile(id: "file-1") == false)
        #expect(try await store.files.file(id: "file-1") == nil)
    }

    @Test(arguments: StoreDriver.available)
    func keysAreFoundByHashAndRevoked(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let key = APIKeyRecord(id: "key_1", user: "alice", isAdmin: true, hash: "abc", prefix: "sk-sluice-12", createdAt: t0)
        try await store.keys.createKey(key)
        #expect(try await store.keys.key(hash: "abc") == key)
        #expect(try await store.keys.key(hash: "other") == nil)
        #expect(try await store.keys.revokeKey(id: "key_1", now: t0.addingTimeInterval(5)))
        #expect(try await store.keys.revokeKey(id: "key_missing", now: t0) == false)
        #expect(try await store.keys.key(hash: "abc")?.revokedAt == t0.addingTimeInterval(5))
        #expect(try await store.keys.keys().map(\.id) == ["key_1"])
    }

    @Test(arguments: StoreDriver.available)
    func activityCountsFinishedAndThrottledItemsPerBucketAndGoesWithItsJob(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let job = try await Fixtures.queuedJob(in: store, count: 6, now: t0)
        let claimed = try #require(try await store.claim(owner: "w", limit: 6, leaseDuration: 30, now: t0)).items.map(\.id)
        let later = t0.addingTimeInterval(3 * JobActivity.bucketSeconds)
        _ = try await store.record(
            [
                ItemOutcome(itemID: claimed[0], result: .succeeded("ok")), ItemOutcome(itemID: claimed[1], result: .failed("no")),
                ItemOutcome(itemID: claimed[2], result: .deferred("429", notBefore: t0)),
                ItemOutcome(itemID: claimed[3], result: .retry("500", notBefore: t0)),
            ], owner: "w", now: t0)
        _ = try await store.record(
            [
                ItemOutcome(itemID: claimed[4], result: .succeeded("ok")),
                ItemOutcome(itemID: claimed[5], result: .deferred("429", notBefore: later)),
            ],
            owner: "w", now: later)
        let bucket = Date(timeIntervalSince1970: Double(JobActivity.bucket(of: t0)) * JobActivity.bucketSeconds)
        #expect(
            try await store.activity(jobID: job.id) == [
                JobActivity.Sample(start: bucket, finished: 2, throttled: 1),
                JobActivity.Sample(start: bucket.addingTimeInterval(3 * JobActivity.bucketSeconds), finished: 1, throttled: 1),
            ])
        try await store.deleteJob(jobID: job.id)
        #expect(try await store.activity(jobID: job.id).isEmpty)
    }

    @Test(arguments: StoreDriver.available)
    func sessionsLiveUntilTheyExpireAreSignedOutOrTheirKeyIsRevoked(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let key = APIKeyRecord(id: "key_a", user: "alice", isAdmin: false, hash: "h-a", prefix: "sk-sluice-a", createdAt: t0)
        try await store.keys.createKey(key)
        try await store.keys.createSession(
            WebSession(hash: "s1", keyID: "key_a", createdAt: t0, expiresAt: t0.addingTimeInterval(60)), now: t0)
        try await store.keys.createSession(
            WebSession(hash: "s2", keyID: "key_a", createdAt: t0, expiresAt: t0.addingTimeInterval(600)), now: t0)
        #expect(try await store.keys.sessionKey(hash: "s1", now: t0.addingTimeInterval(59)) == key)
        #expect(try await store.keys.sessionKey(hash: "s1", now: t0.addingTimeInterval(60)) == nil, "expired")
        #expect(try await store.keys.sessionKey(hash: "nope", now: t0) == nil)
        await #expect(throws: StoreError.self, "a session's secret hash is unique") {
            try await store.keys.createSession(
                WebSession(hash: "s2", keyID: "key_a", createdAt: t0, expiresAt: t0.addingTimeInterval(600)), now: t0)
        }
        try await store.keys.deleteSession(hash: "s2")
        try await store.keys.deleteSession(hash: "s2")
        #expect(try await store.keys.sessionKey(hash: "s2", now: t0) == nil, "signed out")
        try await store.keys.createSession(
            WebSession(hash: "s3", keyID: "key_a", createdAt: t0, expiresAt: t0.addingTimeInterval(600)), now: t0)
        _ = try await store.keys.revokeKey(id: "key_a", now: t0)
        #expect(try await store.keys.sessionKey(hash: "s3", now: t0) == nil, "revoked key")
    }
}
