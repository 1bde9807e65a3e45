import Foundation
import SluiceCore
import SluiceStore
import Synchronization

/// Whether a job's items may still start model calls, from a short-lived cache of job
/// statuses: one query serves every item that starts within ``ttl``, and a cancel or pause made
/// by any process is seen within that time. The fresh-cache path takes a lock, not an actor
/// hop, because it runs before every model call.
final class JobControl: Sendable {
    let store: any JobStore
    let clock: any SluiceClock
    let ttl: Double
    private let cache = Mutex<[String: (status: JobStatus, readAt: Date)]>([:])

    init(store: any JobStore, clock: any SluiceClock, ttl: Double) {
        self.store = store
        self.clock = clock
        self.ttl = ttl
    }

    func mayStart(jobID: String) async -> Bool {
        let now = clock.now()
        let cached = cache.withLock { cache in cache[jobID].flatMap { now.timeIntervalSince($0.readAt) < ttl ? $0.status : nil } }
        if let cached { return cached.isClaimable }
        guard let status = try? await store.statuses(jobIDs: [jobID])[jobID] else { return false }
        note(jobID: jobID, status: status)
        return status.isClaimable
    }

    /// Records a status this process just read or set, so its own workers react at once.
    func note(jobID: String, status: JobStatus) {
        let now = clock.now()
        cache.withLock { cache in
            cache[jobID] = (status, now)
            if cache.count > 1_000 { cache = cache.filter { now.timeIntervalSince($0.value.readAt) < ttl } }
        }
    }
}
