import Synchronization

/// Wakes every task waiting on it when something they sleep for has changed — at a provider's
/// gate, credit to start calls at once arriving while calls sleep until paced start times; at a
/// store, a committed change that a reader of this process waits to see. A waiter whose task is
/// cancelled leaves at once.
public final class WakeSignal: Sendable {
    struct State {
        var generation = 0
        var nextID = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// How many times ``wakeAll()`` has run: read it before deciding to wait, and pass it to
    /// ``wait(after:)``, so a wake that comes in between is not missed.
    public var generation: Int { state.withLock { $0.generation } }

    /// Returns at the first ``wakeAll()`` after `generation` (at once if one came already), or
    /// when the task is cancelled.
    public func wait(after generation: Int) async {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let cancelled = state.withLock { state in
                    if Task.isCancelled || state.generation != generation { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if cancelled { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    public func wakeAll() {
        let waiters = state.withLock { state in
            state.generation += 1
            defer { state.waiters = [:] }
            return state.waiters.values
        }
        for waiter in waiters { waiter.resume() }
    }
}
