import Foundation
public import Logging
public import ServiceLifecycle
public import SluiceCore
public import SluiceStorage
public import SluiceStore

/// Removes what has expired: uploads that were never completed (their parts with them), files
/// past their `expires_after` or the retention, finished jobs past the retention (their items
/// and files with them), and idempotency keys older than a day; and resumes the jobs a key's
/// quota paused once its window has rolled. Each removal is a batch, and safe beside another
/// process doing the same.
public struct Housekeeper: Service {
    /// The queue: the result cache's entries, and the failed rounds' check.
    let store: any JobStore
    let files: any FileStore
    let uploads: any UploadStore
    let idempotency: any IdempotencyStore
    let storage: any FileStorage
    let logger: Logger
    let metrics: EngineMetrics
    /// How long result-cache entries are kept.
    let cacheMaxAge: Double
    /// How long finished jobs and uploaded files are kept.
    let retention: RetentionSettings
    /// Jobs (or files) removed per statement; a sweep goes on while full batches come back.
    static let removalBatch = 200
    var interval = 60.0
    var clock: any SluiceClock = SystemClock()
    /// How long a completed create answers its `Idempotency-Key`.
    public static let idempotencySeconds = 24.0 * 3600

    public init(
        store: any JobStore, files: any FileStore, uploads: any UploadStore, idempotency: any IdempotencyStore,
        storage: any FileStorage, logger: Logger, metrics: EngineMetrics, cacheMaxAge: Double,
        retention: RetentionSettings = RetentionSettings(), clock: any SluiceClock = SystemClock()
    ) {
        self.retention = retention
        self.store = store
        self.files = files
        self.uploads = uploads
        self.idempotency = idempotency
        self.storage = storage
        self.logger = logger
        self.metrics = metrics
        self.cacheMaxAge = cacheMaxAge
        self.clock = clock
    }

    public func run() async throws {
        try await FailedRounds.loop("housekeeping", store: store, clock: clock, logger: logger, metrics: metrics, interval: interval) {
            try await sweep()
            return false
        }
    }

    /// One round of removals; ``run()`` repeats it every `interval` seconds.
    public func sweep() async throws {
        let now = clock.now()
        for id in try await uploads.expireUploads(now: now) {
            try await storage.remove(folder: "uploads/" + id)
            logger.info("upload expired", metadata: ["upload": "\(id)"])
        }
        let filesBefore = retention.filesSeconds.map { now.addingTimeInterval(-$0) }
        while true {
            let expired = try await files.expiredFiles(now: now, createdBefore: filesBefore, limit: Self.removalBatch)
            for file in expired {
                try await storage.remove(folder: "files/" + file.id)
                _ = try await files.deleteFile(id: file.id)
                logger.info("file expired", metadata: ["file": "\(file.id)"])
            }
            if expired.count < Self.removalBatch { break }
        }
        if let seconds = retention.jobsSeconds {
            while true {
                let deleted = try await store.deleteFinishedJobs(finishedBefore: now.addingTimeInterval(-seconds), limit: Self.removalBatch)
                for id in deleted { try await storage.remove(folder: id) }
                if !deleted.isEmpty { logger.info("finished jobs past the retention deleted", metadata: ["jobs": "\(deleted.count)"]) }
                if deleted.count < Self.removalBatch { break }
            }
        }
        for id in try await store.resumeQuotaPaused(now: now) {
            logger.info("job resumed: its key's quota window rolled", metadata: ["job": "\(id)"])
        }
        _ = try await idempotency.removeIdempotencyKeys(before: now.addingTimeInterval(-Self.idempotencySeconds))
        _ = try await store.removeCacheEntries(before: now.addingTimeInterval(-cacheMaxAge))
    }
}
