public import Foundation

public struct UploadPart: Sendable, Equatable {
    public var id: String
    public var uploadID: String
    public var bytes: Int
    /// Where the part's bytes are kept.
    public var path: String
    public var createdAt: Date

    public init(id: String, uploadID: String, bytes: Int, path: String, createdAt: Date) {
        self.id = id
        self.uploadID = uploadID
        self.bytes = bytes
        self.path = path
        self.createdAt = createdAt
    }
}
