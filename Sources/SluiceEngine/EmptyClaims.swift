import Foundation
import SluiceCore
import Synchronization

/// The providers a claim found no work for, and until when the claim loop stops offering them
/// room: otherwise a provider without a limit — always with free slots — makes the loop ask
/// the database for nothing twenty times a second, idle or while a paced provider's calls go
/// out one by one.
///
/// A provider's wait starts at ``EngineConfiguration/idleInterval`` and doubles with each claim
/// in a row that finds nothing for it, up to ``longestWaitFactor`` times that; a claim that
/// finds work for it ends the streak. A commit of this process that may have made work (see
/// ``JobStore/newWork``) forgets every mark at once: only work made by other processes, or come
/// due (a back-off's end), waits for a mark to run out. Keys are provider names, and
/// ``JobSpec/routedProvider`` for jobs routed by model.
final class EmptyClaims: Sendable {
    /// The longest wait, in multiples of the first.
    static let longestWaitFactor = 8.0

    struct Mark {
        var until: Date
        var streak: Int
    }

    let firstWait: Double
    private let marks = Mutex<[String: Mark]>([:])
    /// Moves on when a mark is added, so a watcher sleeping until a later one wakes.
    let marked = WakeSignal()

    init(firstWait: Double) {
        self.firstWait = firstWait
    }

    /// The providers not to offer room at `now`.
    func current(at now: Date) -> Set<String> {
        marks.withLock { marks in Set(marks.compactMap { $0.value.until > now ? $0.key : nil }) }
    }

    /// A claim offering room to `offered` found nothing at `now`.
    func foundNothing(for offered: some Sequence<String>, at now: Date) {
        marks.withLock { marks in
            for key in offered {
                let streak = (marks[key]?.streak ?? -1) + 1
                let wait = min(firstWait * pow(2, Double(streak)), firstWait * Self.longestWaitFactor)
                marks[key] = Mark(until: now.addingTimeInterval(wait), streak: streak)
            }
        }
        marked.wakeAll()
    }

    /// A claim found work for `key`.
    func foundWork(for key: String) {
        marks.withLock { _ = $0.removeValue(forKey: key) }
    }

    /// Work may have been made: every provider is offered again, and streaks start over.
    func forgetAll() {
        marks.withLock { $0.removeAll() }
    }

    /// When the earliest mark still in force at `now` runs out.
    func nextExpiry(after now: Date) -> Date? {
        marks.withLock { marks in marks.values.map(\.until).filter { $0 > now }.min() }
    }
}
