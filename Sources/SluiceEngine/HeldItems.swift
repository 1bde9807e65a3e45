import Synchronization

/// The items this worker holds leases on — claimed and not yet recorded or released — and the
/// model calls they make up: what the heartbeat extends, and what sizes the next claim (a worker
/// never holds more than it can soon start, so other workers get the rest).
final class HeldItems: Sendable {
    struct State {
        var ids: Set<Int64> = []
        var calls = 0
        var waiter: (id: Int, below: Int, continuation: CheckedContinuation<Int?, Never>)?
        var nextID = 0
    }

    private let state = Mutex(State())

    var all: [Int64] { state.withLock { Array($0.ids) } }
    var calls: Int { state.withLock { $0.calls } }

    /// Holds `ids`, which will make `calls` model calls.
    func add(_ ids: [Int64], calls: Int) {
        state.withLock { state in
            state.ids.formUnion(ids)
            state.calls += calls
        }
    }

    /// Lets go of one call's items, the moment they are recorded or released.
    func remove(_ ids: [Int64], calls: Int = 1) {
        let ready = state.withLock { state -> (CheckedContinuation<Int?, Never>, Int)? in
            state.ids.subtract(ids)
            state.calls -= calls
            guard let waiter = state.waiter, state.calls < waiter.below else { return nil }
            state.waiter = nil
            return (waiter.continuation, state.calls)
        }
        if let (continuation, room) = ready { continuation.resume(returning: room) }
    }

    /// Stops counting `calls` whose items stay held (an overdue call gives its slot away but
    /// keeps its lease): ``remove(_:calls:)`` them with `calls: 0` later.
    func setAside(calls: Int) {
        remove([], calls: calls)
    }

    /// Waits until fewer than `threshold` calls are held and returns how many are; `nil` when
    /// the task is cancelled first. One waiter at a time: the claim loop.
    func waitUntilFewer(than threshold: Int) async -> Int? {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now: Int?? = state.withLock { state in
                    if Task.isCancelled { return .some(nil) }
                    if state.calls < threshold { return .some(state.calls) }
                    precondition(state.waiter == nil, "one claim loop per worker")
                    state.waiter = (id, threshold, continuation)
                    return .none
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Int?, Never>? in
                guard let waiter = state.waiter, waiter.id == id else { return nil }
                state.waiter = nil
                return waiter.continuation
            }
            waiter?.resume(returning: nil)
        }
    }
}
