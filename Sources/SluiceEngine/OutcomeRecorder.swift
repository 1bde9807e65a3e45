import Foundation
import Logging
import SluiceCore
import SluiceStore
import Synchronization

/// Writes finished calls' outcomes to the store in group commits: everything that finished
/// while the previous commit was being written goes in the next transaction (at most
/// ``EngineConfiguration/commitBatch`` outcomes each).
///
/// Why group at all: one transaction per call would put the database on every call's path
/// (thousands a second with a fast provider); grouped, the batch grows exactly as fast as
/// outcomes arrive. Why no timed window on top (wait 50 ms for more): an outcome waiting here is
/// a result the provider was paid for and a crash would lose, and a slot held until its outcome
/// is written — a window would cost every call its length when few are in flight. So the
/// window is one commit's own duration, a few milliseconds.
final class OutcomeRecorder: Sendable {
    struct Entry {
        var jobID: String
        var outcomes: [ItemOutcome]
        var continuation: CheckedContinuation<Set<Int64>, Never>
    }

    struct State {
        var entries: [Entry] = []
        var finished = false
        /// The writer loop, waiting for the first outcome.
        var idle: CheckedContinuation<Void, Never>?
    }

    let store: any JobStore
    let owner: String
    let clock: any SluiceClock
    let batch: Int
    /// How long a commit the database refuses is tried again: about a lease, while the heartbeat
    /// keeps the items leased to us; past it the reaper may rightly have given them to another worker.
    let retryFor: Double
    let logger: Logger
    let metrics: EngineMetrics
    private let state = Mutex(State())

    init(
        store: any JobStore, owner: String, clock: any SluiceClock, batch: Int, retryFor: Double, logger: Logger,
        metrics: EngineMetrics
    ) {
        self.store = store
        self.owner = owner
        self.clock = clock
        self.batch = max(1, batch)
        self.retryFor = retryFor
        self.logger = logger
        self.metrics = metrics
    }

    /// Queues the outcomes of one call and returns, once they are committed, the ids the store
    /// recorded (those whose lease this worker still held).
    func record(_ outcomes: [ItemOutcome], jobID: String) async -> Set<Int64> {
        guard !outcomes.isEmpty else { return [] }
        return await withCheckedContinuation { continuation in
            let idle = state.withLock { state in
                state.entries.append(Entry(jobID: jobID, outcomes: outcomes, continuation: continuation))
                defer { state.idle = nil }
                return state.idle
            }
            idle?.resume()
        }
    }

    /// Asks the writer loop to write what is queued and return; no outcome may come after.
    func finish() {
        let idle = state.withLock { state in
            state.finished = true
            defer { state.idle = nil }
            return state.idle
        }
        idle?.resume()
    }

    /// The writer loop: runs until ``finish()`` and everything queued is written.
    func run() async {
        metrics.declareOutcomes()
        while true {
            await waitForWork()
            let (entries, done) = state.withLock { state -> ([Entry], Bool) in
                guard !state.entries.isEmpty else { return ([], state.finished) }
                var taken: [Entry] = []
                var count = 0
                // Whole calls only: a packed call's outcomes commit together.
                while let next = state.entries.first, taken.isEmpty || count + next.outcomes.count <= batch {
                    taken.append(state.entries.removeFirst())
                    count += next.outcomes.count
                }
                return (taken, false)
            }
            if done { return }
            await write(entries)
        }
    }

    func write(_ entries: [Entry]) async {
        let outcomes = entries.flatMap(\.outcomes)
        var recorded: Set<Int64> = []
        // These calls are paid for: a commit the database refuses is tried again (the store's
        // lease check makes a repeat of one that did commit record nothing twice).
        var failures = FailedRounds(loop: "recording results", store: store, clock: clock, logger: logger, metrics: metrics)
        let giveUpAt = clock.now().addingTimeInterval(retryFor)
        while true {
            do {
                let result = try await store.record(outcomes, owner: owner, now: clock.now())
                recorded = result.ids
                failures.succeeded()
                metrics.recorded(outcomes.filter { recorded.contains($0.itemID) })
                for (job, status) in result.finishedJobs {
                    logger.info("job finished", metadata: ["job": "\(job)", "status": "\(status.rawValue)"])
                    // Read again only for a tracer that records spans.
                    if TraceContext.isRecorded, let finished = try? await store.job(id: job) { JobSpans.finished(finished) }
                }
                break
            } catch {
                let pause = try? await failures.failed(error)
                guard let pause, !error.isCorruptionOrConflict, clock.now().addingTimeInterval(pause) < giveUpAt else {
                    // The items stay leased to us until the heartbeat stops extending them; the
                    // reaper then gives them back, so nothing is lost — the calls are paid twice.
                    logger.error("recording results failed; giving up", metadata: ["outcomes": "\(outcomes.count)", "error": "\(error)"])
                    break
                }
                try? await clock.sleep(seconds: pause)
            }
        }
        for entry in entries {
            for outcome in entry.outcomes where recorded.contains(outcome.itemID) {
                if case .failed(let reason) = outcome.result {
                    logger.info("item failed", metadata: ["job": "\(entry.jobID)", "item": "\(outcome.itemID)", "error": "\(reason)"])
                }
            }
            let dropped = entry.outcomes.count(where: { !recorded.contains($0.itemID) })
            if dropped > 0, !recorded.isEmpty {
                logger.warning("results dropped after lost leases", metadata: ["job": "\(entry.jobID)", "dropped": "\(dropped)"])
            }
            entry.continuation.resume(returning: recorded)
        }
    }

    /// Returns once something is queued or the loop is asked to finish.
    func waitForWork() async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state in
                if !state.entries.isEmpty || state.finished { return true }
                state.idle = continuation
                return false
            }
            if ready { continuation.resume() }
        }
    }
}

extension Error {
    /// A store refusal that the same write can never overcome.
    fileprivate var isCorruptionOrConflict: Bool {
        switch self as? StoreError {
        case .corrupt?, .conflict?, .jobNotFound?, .invalidTransition?: true
        default: false
        }
    }
}
