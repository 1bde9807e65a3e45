import Synchronization

/// The items this worker holds leases on — claimed and not yet recorded or released — the
/// model calls they make up, and, per provider, the calls that have not gone out yet and the
/// calls started in the last second: what the heartbeat extends, and what sizes the next claim
/// (see ``ClaimBudget``).
final class HeldItems: Sendable {
    struct State {
        var ids: Set<Int64> = []
        var calls = 0
        var queued: [String: Int] = [:]
        var starts: [String: StartCount] = [:]
        var waiter: Waiter?
        var nextID = 0

        var snapshot: Snapshot { Snapshot(calls: calls, queued: queued, starts: starts) }
    }

    /// The claim loop waiting: `check` says, for a snapshot, how to resume it (or `nil`: not yet).
    struct Waiter {
        var id: Int
        var check: (Snapshot) -> (() -> Void)?
        var cancel: () -> Void
    }

    /// Starts in the current and the previous whole second: the previous one is the rate.
    struct StartCount {
        var second: Int64 = 0
        var current = 0
        var previous = 0

        mutating func add(at second: Int64) {
            roll(to: second)
            current += 1
        }

        mutating func roll(to second: Int64) {
            guard second != self.second else { return }
            previous = second == self.second + 1 ? current : 0
            current = 0
            self.second = second
        }
    }

    private let state = Mutex(State())

    var all: [Int64] { state.withLock { Array($0.ids) } }
    var calls: Int { state.withLock { $0.calls } }
    /// Calls claimed for `provider` that have not gone out.
    func queued(for provider: String) -> Int { state.withLock { $0.queued[provider] ?? 0 } }

    /// Holds `ids`, which will make `calls` model calls; `queued` of them, by provider, wait to go out.
    func add(_ ids: [Int64], calls: Int, queued: [String: Int] = [:]) {
        change { state in
            state.ids.formUnion(ids)
            state.calls += calls
            state.queued.merge(queued, uniquingKeysWith: +)
        }
    }

    /// A call queued for `provider` went out (at `second`, in whole seconds of the clock).
    func started(_ provider: String, at second: Int64) {
        change { state in
            state.queued[provider, default: 0] -= 1
            state.starts[provider, default: StartCount()].add(at: second)
        }
    }

    /// Lets go of one call's items, the moment they are recorded or released; `unstarted` names
    /// the provider it was queued for when it never went out.
    func remove(_ ids: [Int64], calls: Int = 1, unstarted provider: String? = nil) {
        change { state in
            state.ids.subtract(ids)
            state.calls -= calls
            if let provider { state.queued[provider, default: 0] -= 1 }
        }
    }

    /// Stops counting `calls` whose items stay held (an overdue call gives its slot away but
    /// keeps its lease): ``remove(_:calls:unstarted:)`` them with `calls: 0` later.
    func setAside(calls: Int) {
        remove([], calls: calls)
    }

    /// What is held: calls in all, and per provider the calls queued and their recent starts.
    struct Snapshot {
        var calls: Int
        var queued: [String: Int]
        var starts: [String: StartCount]

        /// Calls each provider started in the whole second before `second`.
        func startedLastSecond(at second: Int64) -> [String: Int] {
            starts.mapValues { count in
                var count = count
                count.roll(to: second)
                return count.previous
            }
        }
    }

    /// Waits until `ready` says yes to what is held — asked now, then after every change (a call
    /// goes out, ends or is released) — and returns what it said yes to; `nil` when the task is
    /// cancelled first. One waiter at a time: the claim loop.
    func wait<T: Sendable>(until ready: @escaping @Sendable (Snapshot) -> T?) async -> T? {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<T?, Never>) in
                let now: T?? = state.withLock { state in
                    if Task.isCancelled { return .some(nil) }
                    if let answer = ready(state.snapshot) { return .some(answer) }
                    precondition(state.waiter == nil, "one claim loop per worker")
                    state.waiter = Waiter(id: id) { snapshot in
                        guard let answer = ready(snapshot) else { return nil }
                        return { continuation.resume(returning: answer) }
                    } cancel: {
                        continuation.resume(returning: nil)
                    }
                    return .none
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                guard let waiter = state.waiter, waiter.id == id else { return nil }
                state.waiter = nil
                return waiter
            }
            waiter?.cancel()
        }
    }

    /// Asks the waiter again, with nothing held changed: what it decides by besides the
    /// snapshot (see ``EmptyClaims``) has.
    func recheck() {
        change { _ in }
    }

    /// Applies a change, then asks the waiter (if any) whether it can go on now; it is resumed
    /// outside the lock.
    private func change(_ body: (inout State) -> Void) {
        let resume = state.withLock { state -> (() -> Void)? in
            body(&state)
            guard let waiter = state.waiter, let resume = waiter.check(state.snapshot) else { return nil }
            state.waiter = nil
            return resume
        }
        resume?()
    }
}
