import Foundation
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing

/// The outbox, idempotency keys and chunked uploads, on every driver, with the races between
/// processes that each guard exists for: every contender is a store of its own on one database.
@Suite struct BatchAPIStoreTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func endpoint(owner: String = "alice", events: [String] = ["job.cancelled"], id: String = Job.makeID(prefix: "we_")) -> WebhookEndpoint
    {
        WebhookEndpoint(id: id, owner: owner, url: "http://127.0.0.1:9/hook", events: events, secret: "whsec_c2VjcmV0", createdAt: t0)
    }

    @Test(arguments: StoreDriver.available)
    func anEndingIsQueuedOnceWhoeverAnnouncesIt(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        try await store.webhooks.createWebhookEndpoint(endpoint())
        try await store.webhooks.createWebhookEndpoint(endpoint(events: ["job.completed"]))
        try await store.webhooks.createWebhookEndpoint(endpoint(owner: "bob"))
        var ended: [String] = []
        for _ in 0..<20 {
            let job = try await Fixtures.queuedJob(in: store, count: 2, now: t0)
            ended.append(try await store.cancel(jobID: job.id, now: t0).id)
        }
        let running = try await Fixtures.queuedJob(in: store, count: 2, now: t0)
        let stores = [fixture] + [try await fixture.another(), try await fixture.another()]
        let queued = try await withThrowingTaskGroup(of: Int.self) { group in
            for process in stores {
                group.addTask {
                    var total = 0
                    while true {
                        let queued = try await process.store.webhooks.announceEndedJobs(limit: 3, now: t0)
                        if queued == 0 { return total }
                        total += queued
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(queued == 20, "one delivery per ended job, to the one endpoint of its owner subscribed to its event")
        let all = try await store.webhooks.webhookEndpoints(owner: nil)
        let subscribed = try #require(all.first { $0.owner == "alice" && $0.events == ["job.cancelled"] })
        let deliveries = try await store.webhooks.webhookDeliveries(endpointID: subscribed.id, limit: 100)
        #expect(Set(deliveries.map(\.subject)) == Set(ended))
        #expect(!deliveries.map(\.subject).contains(running.id), "a job that has not ended is not announced")
        let event = try JSONParser.parse(deliveries[0].payload)
        #expect(event["type"] == "job.cancelled" && event["object"] == "event")
        #expect(event["data"]?["status"] == "cancelled")
        #expect(try await store.webhooks.announceEndedJobs(limit: 100, now: t0) == 0, "announced jobs stay announced")
    }

    @Test(arguments: StoreDriver.available)
    func aDeliveryIsLeasedToOneProcessAndItsAttemptsRecordedUnderTheLease(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        try await store.webhooks.createWebhookEndpoint(endpoint())
        for _ in 0..<12 {
            let job = try await Fixtures.queuedJob(in: store, count: 1, now: t0)
            _ = try await store.cancel(jobID: job.id, now: t0)
        }
        #expect(try await store.webhooks.announceEndedJobs(limit: 100, now: t0) == 12)
        let stores = [fixture] + [try await fixture.another(), try await fixture.another()]
        let leased = try await withThrowingTaskGroup(of: [String].self) { group in
            for (number, process) in stores.enumerated() {
                group.addTask {
                    try await process.store.webhooks.leaseDueDeliveries(owner: "p\(number)", limit: 12, until: t0 + 30, now: t0).map(
                        \.delivery.id)
                }
            }
            return try await group.reduce(into: [String]()) { $0 += $1 }
        }
        #expect(leased.count == 12 && Set(leased).count == 12, "no delivery is leased twice")
        let due = try await store.webhooks.leaseDueDeliveries(owner: "late", limit: 12, until: t0 + 60, now: t0 + 1)
        #expect(due.isEmpty, "a held lease keeps others off")

        let retaken = try await store.webhooks.leaseDueDeliveries(owner: "after", limit: 1, until: t0 + 100, now: t0 + 31)
        let delivery = try #require(retaken.first, "an expired lease lets the delivery be tried again")
        #expect(delivery.url == "http://127.0.0.1:9/hook" && delivery.secret == "whsec_c2VjcmV0")
        let failed = WebhookAttempt(attempt: 1, at: t0 + 31, statusCode: 503, error: "the endpoint answered HTTP 503")
        #expect(
            try await store.webhooks.recordDeliveryAttempt(failed, deliveryID: delivery.delivery.id, owner: "intruder", next: .failed)
                == false)
        #expect(
            try await store.webhooks.recordDeliveryAttempt(
                failed, deliveryID: delivery.delivery.id, owner: "after", next: .retry(at: t0 + 40)))
        #expect(
            try await store.webhooks.leaseDueDeliveries(owner: "again", limit: 20, until: t0 + 100, now: t0 + 35).map(\.delivery.id)
                .contains(
                    delivery.delivery.id) == false, "not before its retry time")
        let second = try #require(
            try await store.webhooks.leaseDueDeliveries(owner: "again", limit: 20, until: t0 + 100, now: t0 + 40).first {
                $0.delivery.id == delivery.delivery.id
            })
        #expect(second.delivery.attempts == 1)
        let done = WebhookAttempt(attempt: 2, at: t0 + 40, statusCode: 200, error: nil)
        #expect(try await store.webhooks.recordDeliveryAttempt(done, deliveryID: delivery.delivery.id, owner: "again", next: .delivered))
        #expect(try await store.webhooks.webhookAttempts(deliveryID: delivery.delivery.id) == [failed, done])
        let stored = try #require(
            try await store.webhooks.webhookDeliveries(endpointID: delivery.delivery.endpointID, limit: 20).first {
                $0.id == delivery.delivery.id
            })
        #expect(stored.status == .delivered && stored.attempts == 2)
        #expect(
            try await store.webhooks.recordDeliveryAttempt(done, deliveryID: delivery.delivery.id, owner: "again", next: .delivered)
                == false,
            "a delivered one takes no more attempts")

        #expect(try await store.webhooks.deleteWebhookEndpoint(id: delivery.delivery.endpointID))
        #expect(
            try await store.webhooks.webhookDeliveries(endpointID: delivery.delivery.endpointID, limit: 20).isEmpty,
            "deliveries go with their endpoint")
    }

    @Test(arguments: StoreDriver.available)
    func oneOfTwoRacingRequestsClaimsAnIdempotencyKey(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let stores = [fixture] + (0..<3).map { _ in fixture }
        let others = [try await fixture.another(), try await fixture.another(), try await fixture.another()]
        let claims = try await withThrowingTaskGroup(of: IdempotencyClaim.self) { group in
            for process in [stores[0]] + others {
                group.addTask {
                    try await process.store.idempotency.claimIdempotencyKey(
                        owner: "alice", key: "k1", route: "POST /v1/files", abandonedBefore: t0 - 600, now: t0)
                }
            }
            return try await group.reduce(into: [IdempotencyClaim]()) { $0.append($1) }
        }
        #expect(claims.filter { $0 == .claimed }.count == 1)
        #expect(claims.filter { $0 == .inProgress }.count == 3)
        let store = fixture.store
        try await store.idempotency.completeIdempotencyKey(owner: "alice", key: "k1", fingerprint: "f", response: "{}")
        #expect(
            try await store.idempotency.claimIdempotencyKey(
                owner: "alice", key: "k1", route: "POST /v1/files", abandonedBefore: t0 - 600, now: t0)
                == .completed(route: "POST /v1/files", fingerprint: "f", response: "{}"))
        #expect(
            try await store.idempotency.claimIdempotencyKey(
                owner: "bob", key: "k1", route: "POST /v1/files", abandonedBefore: t0 - 600, now: t0)
                == .claimed,
            "keys are each caller's own")
        try await store.idempotency.releaseIdempotencyKey(owner: "bob", key: "k1")
        #expect(
            try await store.idempotency.claimIdempotencyKey(owner: "bob", key: "k1", route: "r", abandonedBefore: t0 - 600, now: t0)
                == .claimed)
        #expect(
            try await store.idempotency.claimIdempotencyKey(owner: "bob", key: "k1", route: "r", abandonedBefore: t0 + 1, now: t0 + 2)
                == .claimed,
            "a claim whose request never finished is taken over")
        #expect(try await store.idempotency.removeIdempotencyKeys(before: t0 + 1) == 1)
    }

    @Test(arguments: StoreDriver.available)
    func anUploadTakesPartsUpToItsSizeAndCompletesOnce(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let upload = StoredUpload(
            id: "upload_1", owner: "alice", filename: "big.jsonl", purpose: "batch", mimeType: "application/jsonl", bytes: 10,
            fileExpiresAfter: 7200, createdAt: t0, expiresAt: t0 + 3600)
        try await store.uploads.createUpload(upload)
        func part(_ id: String, _ bytes: Int) -> UploadPart {
            UploadPart(id: id, uploadID: "upload_1", bytes: bytes, path: "/p/\(id)", createdAt: t0)
        }
        #expect(try await store.uploads.addUploadPart(part("a", 6), now: t0) == .added)
        #expect(try await store.uploads.addUploadPart(part("b", 5), now: t0) == .tooLarge(received: 6))
        #expect(try await store.uploads.addUploadPart(part("c", 4), now: t0) == .added)
        #expect(Set(try await store.uploads.uploadParts(uploadID: "upload_1").map(\.id)) == ["a", "c"])
        let file = StoredFile(
            id: "file-1", owner: "alice", filename: "big.jsonl", purpose: "batch", bytes: 10, path: "/f", createdAt: t0,
            expiresAt: t0 + 7200)
        let other = StoredFile(id: "file-2", owner: "alice", filename: "big.jsonl", purpose: "batch", bytes: 10, path: "/g", createdAt: t0)
        #expect(try await store.uploads.completeUpload(id: "upload_1", file: file, now: t0).fileID == "file-1")
        #expect(try await store.uploads.completeUpload(id: "upload_1", file: other, now: t0).fileID == "file-1", "an upload completes once")
        #expect(try await store.files.file(id: "file-2") == nil)
        #expect(try await store.files.file(id: "file-1") == file)
        #expect(try await store.uploads.addUploadPart(part("d", 0), now: t0) == .closed(.completed))
        #expect(try await store.files.expiredFiles(now: t0 + 7200, createdBefore: nil, limit: 10).map(\.id) == ["file-1"])

        try await store.uploads.createUpload(
            StoredUpload(
                id: "upload_2", owner: "alice", filename: "x", purpose: "batch", mimeType: "text/plain", bytes: 3, fileExpiresAfter: nil,
                createdAt: t0, expiresAt: t0 + 3600))
        #expect(
            try await store.uploads.addUploadPart(
                UploadPart(id: "late", uploadID: "upload_2", bytes: 1, path: "/l", createdAt: t0), now: t0 + 3600)
                == .closed(.expired))
        #expect(try await store.uploads.expireUploads(now: t0 + 3600) == ["upload_2"])
        #expect(try await store.uploads.cancelUpload(id: "upload_2").status == .expired, "an expired upload stays expired")
    }
}
