public import Foundation
import SluiceCore

/// `Idempotency-Key` claims and answers, over the SQL seam.
public struct SQLIdempotencyStore: IdempotencyStore, SQLStore {
    let context: StoreContext

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
