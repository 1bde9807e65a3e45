import Synchronization

/// A counting semaphore: model calls in flight in this process, or to one provider.
///
/// Waiters are served first come, first served, one per released permit (never all at once,
/// so a release wakes exactly the task that can use it), and a waiter whose task is cancelled
/// leaves the queue at once — a draining worker is never stuck behind a permit it no longer wants.
public final class CallPermits: Sendable {
    struct Waiter {
        var id: Int
        var continuation: CheckedContinuation<Bool, Never>
    }

    struct State {
        var available: Int
        var nextID = 0
        var waiters: [Waiter] = []
    }

    private let state: Mutex<State>

    public init(_ count: Int) {
        state = Mutex(State(available: count))
    }

    /// Waits for a permit; `false` (holding nothing) when the task was cancelled first.
    public func acquire() async -> Bool {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let granted: Bool? = state.withLock { state in
                    if Task.isCancelled { return false }
                    if state.available > 0 {
                        state.available -= 1
                        return true
                    }
                    state.waiters.append(Waiter(id: id, continuation: continuation))
                    return nil
                }
                if let granted { continuation.resume(returning: granted) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index)
            }
            waiter?.continuation.resume(returning: false)
        }
    }

    /// Hands a permit to the longest waiter, or back to the pool.
    public func release() {
        let next = state.withLock { state -> Waiter? in
            if state.waiters.isEmpty {
                state.available += 1
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.continuation.resume(returning: true)
    }
}
