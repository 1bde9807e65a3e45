public import Foundation

/// What `Idempotency-Key` needs: a create's answer remembered under the caller's key, so a
/// retried create answers the first one's result instead of making a second.
///
/// A key is claimed by the `INSERT` that creates its row — of two requests racing with one
/// key, one inserts and the other finds the row — and completed with the request's
/// fingerprint and answer in the same statement that checks it is still unanswered.
public protocol IdempotencyStore: Sendable {
    /// Claims `key` for a request to `route`, or says what an earlier request with it did. A
    /// claim older than `abandonedBefore` that never completed (its process died) is taken over.
    func claimIdempotencyKey(owner: String, key: String, route: String, abandonedBefore: Date, now: Date) async throws -> IdempotencyClaim
    /// Stores the answer of the request that claimed `key`.
    func completeIdempotencyKey(owner: String, key: String, fingerprint: String, response: String) async throws
    /// Lets `key` be claimed again: its request failed, and a retry should run afresh.
    func releaseIdempotencyKey(owner: String, key: String) async throws
    /// Forgets keys made before `before`; returns how many.
    func removeIdempotencyKeys(before: Date) async throws -> Int
}
