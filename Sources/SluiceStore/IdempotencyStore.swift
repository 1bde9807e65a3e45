import Foundation

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

public enum IdempotencyClaim: Sendable, Equatable {
    /// The key is this request's: run it, then complete or release the key.
    case claimed
    /// Another request with the key has not finished.
    case inProgress
    /// A request with the key finished: its route, the fingerprint of its body, its answer.
    case completed(route: String, fingerprint: String, response: String)
}

extension SQLJobStore {
    public func claimIdempotencyKey(owner: String, key: String, route: String, abandonedBefore: Date, now: Date) async throws
        -> IdempotencyClaim
    {
        try await write { tx in
            try tx.execute(
                "DELETE FROM idempotency_keys WHERE owner = ? AND key = ? AND response IS NULL AND created_at < ?",
                [.text(owner), .text(key), SQLValue(abandonedBefore)])
            let inserted = try tx.row(
                """
                INSERT INTO idempotency_keys (owner, key, route, created_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (owner, key) DO NOTHING RETURNING key
                """, [.text(owner), .text(key), .text(route), SQLValue(now)])
            if inserted != nil { return .claimed }
            guard
                let row = try tx.row(
                    "SELECT route, fingerprint, response FROM idempotency_keys WHERE owner = ? AND key = ?", [.text(owner), .text(key)])
            else { return .inProgress }
            guard let fingerprint = try row.optionalText("fingerprint"), let response = try row.optionalText("response") else {
                return .inProgress
            }
            return .completed(route: try row.text("route"), fingerprint: fingerprint, response: response)
        }
    }

    public func completeIdempotencyKey(owner: String, key: String, fingerprint: String, response: String) async throws {
        try await write { tx in
            try tx.execute(
                "UPDATE idempotency_keys SET fingerprint = ?, response = ? WHERE owner = ? AND key = ? AND response IS NULL",
                [.text(fingerprint), .text(response), .text(owner), .text(key)])
        }
    }

    public func releaseIdempotencyKey(owner: String, key: String) async throws {
        try await write { tx in
            try tx.execute("DELETE FROM idempotency_keys WHERE owner = ? AND key = ? AND response IS NULL", [.text(owner), .text(key)])
        }
    }

    public func removeIdempotencyKeys(before: Date) async throws -> Int {
        try await write { tx in try tx.execute("DELETE FROM idempotency_keys WHERE created_at < ?", [SQLValue(before)]) }
    }
}
