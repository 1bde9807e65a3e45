public import Foundation
import SluiceCore

/// An API key as stored: never the secret, only its SHA-256 and a short prefix to recognise it by.
public struct APIKeyRecord: Sendable, Equatable {
    public var id: String
    public var user: String
    public var isAdmin: Bool
    public var hash: String
    public var prefix: String
    public var createdAt: Date
    public var revokedAt: Date?

    public init(id: String, user: String, isAdmin: Bool, hash: String, prefix: String, createdAt: Date, revokedAt: Date? = nil) {
        self.id = id
        self.user = user
        self.isAdmin = isAdmin
        self.hash = hash
        self.prefix = prefix
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}
