public import Foundation
public import SluiceCore

/// An API key as stored: never the secret, only its SHA-256 and a short prefix to recognise it by.
public struct APIKeyRecord: Sendable, Equatable {
    public var id: String
    public var user: String
    public var isAdmin: Bool
    public var hash: String
    public var prefix: String
    public var createdAt: Date
    public var revokedAt: Date?
    /// The key's share of the provider's calls against other users' (1–100): a user whose key
    /// weighs 3 gets three calls for every one of a user whose key weighs 1, while both have work.
    public var weight: Int
    /// What the key's jobs may spend per day and month.
    public var quota: KeyQuota

    /// The heaviest weight a key may have: the fair share's stride stays a whole number.
    public static let maxWeight = 100

    public init(
        id: String, user: String, isAdmin: Bool, hash: String, prefix: String, createdAt: Date, revokedAt: Date? = nil, weight: Int = 1,
        quota: KeyQuota = KeyQuota()
    ) {
        self.weight = weight
        self.quota = quota
        self.id = id
        self.user = user
        self.isAdmin = isAdmin
        self.hash = hash
        self.prefix = prefix
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}
