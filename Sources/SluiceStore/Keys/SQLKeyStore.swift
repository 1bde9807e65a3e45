public import Foundation
import SluiceCore

/// API keys and the browser sessions opened with them, over the SQL seam.
public struct SQLKeyStore: KeyStore, SQLStore {
    let context: StoreContext

    public func createSession(_ session: WebSession, now: Date) async throws {
        try await write { tx in
            // Sessions that have run out go when a new one starts: the table stays small without a sweeper.
            try tx.execute("DELETE FROM web_sessions WHERE expires_at <= ?", [SQLValue(now)])
            try tx.execute(
                "INSERT INTO web_sessions (hash, key_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                [.text(session.hash), .text(session.keyID), SQLValue(session.createdAt), SQLValue(session.expiresAt)])
        }
    }

    public func sessionKey(hash: String, now: Date) async throws -> APIKeyRecord? {
        try await read { tx in
            try tx.row(
                """
                SELECT \(StoreRows.keyColumns) FROM api_keys WHERE revoked_at IS NULL
                AND id = (SELECT key_id FROM web_sessions WHERE hash = ? AND expires_at > ?)
                """, [.text(hash), SQLValue(now)]
            ).map(StoreRows.key)
        }
    }

    public func deleteSession(hash: String) async throws {
        try await write { tx in _ = try tx.execute("DELETE FROM web_sessions WHERE hash = ?", [.text(hash)]) }
    }

    public func createKey(_ key: APIKeyRecord) async throws {
        try await write { tx in
            try tx.execute(
                "INSERT INTO api_keys (\(StoreRows.keyColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    .text(key.id), .text(key.user), SQLValue(key.isAdmin), .text(key.hash), .text(key.prefix), SQLValue(key.createdAt),
                    SQLValue(key.revokedAt), SQLValue(key.weight), SQLValue(key.quota.tokensPerDay), SQLValue(key.quota.tokensPerMonth),
                    SQLValue(key.quota.costMicrosPerDay), SQLValue(key.quota.costMicrosPerMonth),
                ])
        }
    }

    public func key(hash: String) async throws -> APIKeyRecord? {
        try await read { tx in try tx.row("SELECT \(StoreRows.keyColumns) FROM api_keys WHERE hash = ?", [.text(hash)]).map(StoreRows.key) }
    }

    public func keys() async throws -> [APIKeyRecord] {
        try await read { tx in try tx.rows("SELECT \(StoreRows.keyColumns) FROM api_keys ORDER BY created_at, id", []).map(StoreRows.key) }
    }

    public func revokeKey(id: String, now: Date) async throws -> Bool {
        try await write { tx in
            try tx.execute("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", [SQLValue(now), .text(id)]) > 0
        }
    }
}
