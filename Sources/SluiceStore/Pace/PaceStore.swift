public import Foundation

/// One schedule per provider shared by every process on the database: the rate limits are the
/// provider's, not each process's, so all workers together must stay under them.
///
/// Each process takes start times in small blocks (a generic cell rate algorithm kept in one
/// row, moved by one `UPDATE … RETURNING`), so the database is asked once per block, not once
/// per call. A 429 or an opened circuit seen by one process is written here and holds every
/// process's next block back.
public protocol PaceStore: Sendable {
    /// Books `request.calls` start times and `request.tokens` tokens on the provider's schedule.
    func takePace(_ request: PaceRequest, now: Date) async throws -> PaceGrant

    /// Holds the provider's schedule until `until`: nobody's next block starts before it. `reason`
    /// says whether the provider refused calls (a 429) or failed them (an opened circuit).
    func holdPace(provider: String, until: Date, reason: PaceHold) async throws
}
