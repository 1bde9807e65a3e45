import Hummingbird
import Logging

/// Who is calling: the user a key belongs to, or the one local user when auth is off.
public struct Principal: Sendable, Equatable {
    public var user: String
    public var isAdmin: Bool
    /// The key's id; the per-key request limit counts against it.
    public var keyID: String

    public init(user: String, isAdmin: Bool, keyID: String) {
        self.user = user
        self.isAdmin = isAdmin
        self.keyID = keyID
    }

    /// The only user of a server running with auth off.
    public static let local = Principal(user: "local", isAdmin: true, keyID: "local")

    /// Whether this caller may see and touch something `owner` created: its owner or an admin.
    public func owns(_ owner: String) -> Bool { isAdmin || owner == user }
}
