import Foundation
import Synchronization

/// The model calls running in this worker and when each becomes overdue (see ``CallLatency``):
/// one sweep a second finds the overdue ones, instead of a timer per call.
final class RunningCalls: Sendable {
    struct Entry {
        var deadline: Date
        var lend: @Sendable () -> Void
    }

    struct State {
        var nextID = 0
        var entries: [Int: Entry] = [:]
        var lent: Set<Int> = []
    }

    private let state = Mutex(State())

    /// A call started; `lend` runs once if it is still running at `deadline`.
    func start(deadline: Date, lend: @escaping @Sendable () -> Void) -> Int {
        state.withLock { state in
            state.nextID += 1
            state.entries[state.nextID] = Entry(deadline: deadline, lend: lend)
            return state.nextID
        }
    }

    /// The call ended; returns whether its slot was lent out while it ran.
    func end(_ id: Int) -> Bool {
        state.withLock { state in
            state.entries[id] = nil
            return state.lent.remove(id) != nil
        }
    }

    /// Lends the slots of the calls overdue at `now`, oldest first, while fewer than `limit` are
    /// lent — so calls in flight stay bounded even if every call hangs.
    func sweep(now: Date, limit: Int) {
        let due = state.withLock { state -> [Entry] in
            let room = max(0, limit - state.lent.count)
            let ids = state.entries.filter { $0.value.deadline <= now }.sorted { $0.value.deadline < $1.value.deadline }
                .prefix(room).map(\.key)
            state.lent.formUnion(ids)
            return ids.compactMap { state.entries.removeValue(forKey: $0) }
        }
        for entry in due { entry.lend() }
    }
}
