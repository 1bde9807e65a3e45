import Foundation
import SluiceCore

/// A store over the SQL seam: the queue and each small store beside it run their transactions
/// through these, so every one is retried when it lost a race and wakes the process's waiters
/// after it commits.
protocol SQLStore: Sendable {
    var context: StoreContext { get }
}

/// What every store over the seam shares: the database, and this process's signals.
struct StoreContext: Sendable {
    let database: any SQLDatabase
    /// Woken after each change committed through this process's stores.
    let commits: WakeSignal
    /// Woken after a commit that may have made work to claim.
    let newWork: WakeSignal
}

extension SQLStore {
    var database: any SQLDatabase { context.database }
    var commits: WakeSignal { context.commits }
    var newWork: WakeSignal { context.newWork }

    /// Runs of a transaction that lost a race (deadlock, serialization failure, busy file).
    static var transactionAttempts: Int { 4 }

    /// A read-write transaction, run again when the database says it lost a race. Once it
    /// commits it wakes ``commits``' and ``newWork``'s waiters, unless `wakes` is false: for a
    /// transaction that may change nothing (a claim that finds no work) or make no work (an
    /// outcome), which says so itself.
    func write<T: Sendable>(wakes: Bool = true, _ body: @escaping @Sendable (any SQLTransaction) throws -> T) async throws -> T {
        try await write(wakingIf: { _ in wakes }, body)
    }

    /// The same, waking the waiters only when `changed` says of the result that the
    /// transaction changed something: a poll that finds nothing due (an ingest, a webhook
    /// delivery, an expired lease) runs every second or so and must not send idle workers to
    /// the database each time.
    func write<T: Sendable>(
        wakingIf changed: @Sendable (T) -> Bool, _ body: @escaping @Sendable (any SQLTransaction) throws -> T
    ) async throws -> T {
        var attempt = 1
        while true {
            do {
                let result = try await database.write(body)
                if changed(result) {
                    commits.wakeAll()
                    newWork.wakeAll()
                }
                return result
            } catch let error as StoreError where error.isRetryable && attempt < Self.transactionAttempts {
                // A short, growing pause lets the winner commit.
                try await Task.sleep(for: .milliseconds(2 << attempt))
                attempt += 1
            }
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLTransaction) throws -> T) async throws -> T {
        try await database.read(body)
    }
}
