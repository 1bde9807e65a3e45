import Crypto
public import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SluiceCore
public import SluiceStore

/// API keys: made once, shown once, stored only as their SHA-256.
public enum APIKeys {
    /// A new secret (`sk-sluice-` and 40 hex digits, 160 random bits) and the record to store.
    /// The key's id is drawn apart from the secret: ids are shown and logged, and an id cut from
    /// the secret would give away part of it.
    public static func make(user: String, isAdmin: Bool, now: Date) -> (secret: String, record: APIKeyRecord) {
        let secret = "sk-sluice-" + randomHex(bytes: 20)
        let id = "key_" + randomHex(bytes: 8)
        return (
            secret,
            APIKeyRecord(id: id, user: user, isAdmin: isAdmin, hash: hash(secret), prefix: String(secret.prefix(14)), createdAt: now)
        )
    }

    /// `bytes` random bytes from the system's generator, as lower-case hex.
    static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    public static func hash(_ secret: String) -> String {
        SHA256.hash(data: Data(secret.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
