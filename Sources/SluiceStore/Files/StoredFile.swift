public import Foundation
import SluiceCore

/// An uploaded file of the Batch API (`/v1/files`), kept on disk at `path`.
public struct StoredFile: Sendable, Equatable {
    public var id: String
    public var owner: String
    public var filename: String
    public var purpose: String
    public var bytes: Int
    public var path: String
    public var createdAt: Date
    /// When the file is deleted by itself (`expires_after`); `nil` keeps it until deleted.
    public var expiresAt: Date?

    public init(
        id: String, owner: String, filename: String, purpose: String, bytes: Int, path: String, createdAt: Date, expiresAt: Date? = nil
    ) {
        self.expiresAt = expiresAt
        self.id = id
        self.owner = owner
        self.filename = filename
        self.purpose = purpose
        self.bytes = bytes
        self.path = path
        self.createdAt = createdAt
    }
}

extension StoredFile {
    public func hasExpired(now: Date) -> Bool { expiresAt.map { $0 <= now } ?? false }
}
