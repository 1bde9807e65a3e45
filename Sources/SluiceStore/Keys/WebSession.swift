public import Foundation
import SluiceCore

/// A signed-in browser. The cookie carries a random secret; the store keeps only its hash.
public struct WebSession: Sendable, Equatable {
    public var hash: String
    public var keyID: String
    public var createdAt: Date
    public var expiresAt: Date

    public init(hash: String, keyID: String, createdAt: Date, expiresAt: Date) {
        self.hash = hash
        self.keyID = keyID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}
