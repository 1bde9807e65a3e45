import Foundation
import Logging
import SluiceCore
import SluiceStore
import Synchronization

/// Writes finished calls' outcomes to the store in group commits: whatever finished within
/// ``EngineConfiguration/commitInterval`` (or ``EngineConfiguration/commitBatch`` outcomes,
/// whichever comes first) goes in one transaction.
///
/// Why group them at all: one transaction per call would put the database on every call's path
/// (thousands a second with a fast provider). Why no bigger window: an outcome waiting here is a
/// result the provider was paid for and a crash would lose — the window bounds what a `kill -9`
/// pays twice, and how stale the job's counts and partial results can be.
final class OutcomeRecorder: Sendable {
    struct Entry {
        var jobID: String
        var outcomes: [ItemOutcome]
        var continuation: CheckedContinuation<Set<Int64>, Never>
    }

    struct State {
        var entries: [Entry] = []
        var count = 0
        var finished = false
        /// The writer loop, waiting for the first outcome.
        var idle: CheckedContinuation<Void, Never>?
        /// The writer loop, lingering until the batch is full.
        var lingering: CheckedContinuation<Void, Never>?
    }

    let store: any JobStore
    let owner: String
    let clock: any SluiceClock
    let interval: Double
    let batch: Int
    let logger: Logger
    private let state = Mutex(State())

    init(store: any JobStore, owner: String, clock: any SluiceClock, interval: Double, batch: Int, logger: Logger) {
        self.store = store
        self.owner = owner
        self.clock = clock
        self.interval = interval
        self.batch = max(1, batch)
        self.logger = logger
    }

    /// Queues the outcomes of one call and returns, once they are committed, the ids the store
    /// recorded (those whose lease this worker still held).
    func record(_ outcomes: [ItemOutcome], jobID: String) async -> Set<Int64> {
        guard !outcomes.isEmpty else { return [] }
        return await withCheckedContinuation { continuation in
            let wake = state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.entries.append(Entry(jobID: jobID, outcomes: outcomes, continuation: continuation))
                state.count += outcomes.count
                defer { state.idle = nil }
                if let idle = state.idle { return idle }
                guard state.count >= batch, let lingering = state.lingering else { return nil }
                state.lingering = nil
                return lingering
            }
            wake?.resume()
        }
    }

    /// Asks the writer loop to write what is queued and return; no outcome may come after.
    func finish() {
        let waiters = state.withLock { state in
            state.finished = true
            defer {
                state.idle = nil
                state.lingering = nil
            }
            return [state.idle, state.lingering].compactMap { $0 }
        }
        for waiter in waiters { waiter.resume() }
    }

    /// The writer loop: runs until ``finish()`` and everything queued is written.
    func run() async {
        while true {
            await waitForFirst()
            let (empty, full, finished) = state.withLock { ($0.entries.isEmpty, $0.count >= batch, $0.finished) }
            if empty, finished { return }
            if !full, !finished, interval > 0 { await linger() }
            let entries = state.withLock { state in
                defer {
                    state.entries = []
                    state.count = 0
                }
                return state.entries
            }
            await write(entries)
        }
    }

    func write(_ entries: [Entry]) async {
        let outcomes = entries.flatMap(\.outcomes)
        var recorded: Set<Int64> = []
        do {
            recorded = try await store.record(outcomes, owner: owner, now: clock.now())
            EngineMetrics.recorded(outcomes.filter { recorded.contains($0.itemID) })
        } catch {
            // The items stay leased to us until the heartbeat stops extending them; the reaper
            // then gives them back, so nothing is lost — the calls are paid twice.
            logger.error("recording results failed", metadata: ["outcomes": "\(outcomes.count)", "error": "\(error)"])
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
    func waitForFirst() async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state in
                if !state.entries.isEmpty || state.finished { return true }
                state.idle = continuation
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// Waits out the commit interval, or less if the batch fills (or the loop finishes) first.
    func linger() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await self.clock.sleep(seconds: self.interval) }
            group.addTask { await self.waitUntilFull() }
            await group.next()
            group.cancelAll()
            self.state.withLock { $0.lingering = nil }
        }
    }

    func waitUntilFull() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state in
                    if state.count >= batch || state.finished || Task.isCancelled { return true }
                    state.lingering = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                defer { state.lingering = nil }
                return state.lingering
            }
            waiter?.resume()
        }
    }
}
