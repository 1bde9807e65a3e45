public import Foundation

/// An upload as stored. `fileExpiresAfter` is the file's `expires_after` in seconds, kept
/// until the file is made.
public struct StoredUpload: Sendable, Equatable {
    public enum Status: String, Sendable { case pending, completed, cancelled, expired }
    public var id: String
    public var owner: String
    public var filename: String
    public var purpose: String
    public var mimeType: String
    public var bytes: Int
    public var status: Status
    public var fileID: String?
    public var fileExpiresAfter: Int?
    public var createdAt: Date
    public var expiresAt: Date

    public init(
        id: String, owner: String, filename: String, purpose: String, mimeType: String, bytes: Int, status: Status = .pending,
        fileID: String? = nil, fileExpiresAfter: Int?, createdAt: Date, expiresAt: Date
    ) {
        self.id = id
        self.owner = owner
        self.filename = filename
        self.purpose = purpose
        self.mimeType = mimeType
        self.bytes = bytes
        self.status = status
        self.fileID = fileID
        self.fileExpiresAfter = fileExpiresAfter
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}
