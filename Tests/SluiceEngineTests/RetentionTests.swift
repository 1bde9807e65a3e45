import Foundation
import Logging
import SluiceCore
import SluiceEngine
import SluiceStorage
import SluiceStore
import SluiceTestSupport
import Testing

/// The housekeeper's retention: finished jobs and uploaded files past their age go, with their
/// files; everything younger, and every unfinished job, stays.
@Suite struct RetentionTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let day = 86_400.0

    @Test(arguments: StoreDriver.available)
    func finishedJobsAndFilesPastTheRetentionGoWithTheirFiles(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let store = fixture.store
        let storage = try LocalFileStorage(directory: fixture.directory.path("uploads"))
        func finishedJob(at time: Date) async throws -> Job {
            let job = try await Fixtures.queuedJob(in: store, count: 1, now: time)
            let claimed = try #require(try await store.claim(owner: "w", limit: 1, leaseDuration: 30, now: time))
            _ = try await store.record([ItemOutcome(itemID: claimed.items[0].id, result: .succeeded("done"))], owner: "w", now: time)
            return job
        }
        let old = try await finishedJob(at: t0)
        let recent = try await finishedJob(at: t0.addingTimeInterval(20 * day))
        let unfinished = try await Fixtures.queuedJob(in: store, count: 1, now: t0)
        for job in [old, recent, unfinished] {
            let folder = fixture.directory.path("uploads/\(job.id)")
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Data("text\nrow\n".utf8).write(to: URL(fileURLWithPath: folder + "/input.csv"))
        }
        for (id, created) in [("file-old", t0), ("file-new", t0.addingTimeInterval(20 * day))] {
            try await store.files.createFile(
                StoredFile(id: id, owner: "alice", filename: "in.jsonl", purpose: "batch", bytes: 1, path: "/f", createdAt: created))
        }
        let keeper = Housekeeper(
            store: store, files: store.files, uploads: store.uploads, idempotency: store.idempotency, storage: storage,
            logger: Logger(label: "test"), metrics: .none, cacheMaxAge: day,
            retention: RetentionSettings(jobsSeconds: 30 * day, filesSeconds: 30 * day),
            clock: ManualClock(start: t0.addingTimeInterval(31 * day)))
        try await keeper.sweep()
        #expect(try await store.job(id: old.id) == nil)
        let orphans = try await store.database.read { tx in
            try tx.row("SELECT COUNT(*) AS n FROM items WHERE job_seq NOT IN (SELECT seq FROM jobs)", [])?.int("n")
        }
        #expect(orphans == 0, "the job's items went with it")
        #expect(!FileManager.default.fileExists(atPath: fixture.directory.path("uploads/\(old.id)")))
        for kept in [recent, unfinished] {
            #expect(try await store.job(id: kept.id) != nil)
            #expect(FileManager.default.fileExists(atPath: fixture.directory.path("uploads/\(kept.id)/input.csv")))
        }
        #expect(try await store.files.file(id: "file-old") == nil)
        #expect(try await store.files.file(id: "file-new") != nil)
        // By default nothing is removed.
        let keepAll = Housekeeper(
            store: store, files: store.files, uploads: store.uploads, idempotency: store.idempotency, storage: storage,
            logger: Logger(label: "test"), metrics: .none, cacheMaxAge: day, clock: ManualClock(start: t0.addingTimeInterval(400 * day)))
        try await keepAll.sweep()
        #expect(try await store.job(id: recent.id) != nil)
        #expect(try await store.files.file(id: "file-new") != nil)
    }
}
