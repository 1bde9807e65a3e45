import Foundation
import SluiceCore
import SluiceStore

/// Whether a job's items may still start model calls, from a short-lived cache of job
/// statuses: one query serves every item that starts within ``ttl``, and a cancel or pause made
/// by any process is seen within that time.
actor JobControl {
    let store: any JobStore
    let clock: any SluiceClock
    let ttl: Double
    private var cache: [String: (status: JobStatus, readAt: Date)] = [:]

    init(store: any JobStore, clock: any SluiceClock, ttl: Double) {
        self.store = store
        self.clock = clock
        self.ttl = ttl
    }

    func mayStart(jobID: String) async -> Bool {
        let now = clock.now()
        if let entry = cache[jobID], now.timeIntervalSince(entry.readAt) < ttl { return entry.status.isClaimable }
        guard let status = try? await store.statuses(jobIDs: [jobID])[jobID] else { return false }
        cache[jobID] = (status, now)
        if cache.count > 1_000 { cache = cache.filter { now.timeIntervalSince($0.value.readAt) < ttl } }
        return status.isClaimable
    }

    /// Records a status this process just set, so its own workers react at once.
    func note(jobID: String, status: JobStatus) {
        cache[jobID] = (status, clock.now())
    }
}
