public import Foundation

/// API keys, stored as hashes, and the browser sessions opened with them.
public protocol KeyStore: Sendable {
    func createKey(_ key: APIKeyRecord) async throws
    /// The key whose secret hashes to `hash`, revoked or not.
    func key(hash: String) async throws -> APIKeyRecord?
    func keys() async throws -> [APIKeyRecord]
    /// Revokes by id; returns `false` when no such key exists.
    func revokeKey(id: String, now: Date) async throws -> Bool

    /// Starts a browser session (and drops the sessions that have expired).
    func createSession(_ session: WebSession, now: Date) async throws
    /// The key a live session was opened with: `nil` when the session is unknown, has expired
    /// or its key has been revoked.
    func sessionKey(hash: String, now: Date) async throws -> APIKeyRecord?
    /// Ends a session (signing out); ending one that is gone is not an error.
    func deleteSession(hash: String) async throws
}
