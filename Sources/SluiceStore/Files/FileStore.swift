public import Foundation

/// Batch API files (`/v1/files`): their records; their bytes are in ``FileStorage``.
public protocol FileStore: Sendable {
    func createFile(_ file: StoredFile) async throws
    func file(id: String) async throws -> StoredFile?
    /// A page of files of `owner` (everyone's when `nil`) after the file `after`, newest first
    /// or, with `oldestFirst`, oldest first.
    func files(owner: String?, purpose: String?, after: String?, limit: Int, oldestFirst: Bool) async throws -> [StoredFile]
    func deleteFile(id: String) async throws -> Bool
    /// Files whose `expires_at` has passed, oldest first, for the housekeeper to remove.
    /// With `createdBefore`, also the files uploaded before then (the retention's).
    func expiredFiles(now: Date, createdBefore: Date?, limit: Int) async throws -> [StoredFile]
}
