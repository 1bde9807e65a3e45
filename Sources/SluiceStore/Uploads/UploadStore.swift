public import Foundation

/// Chunked uploads (`/v1/uploads`): parts arrive one request each, and completing the upload
/// makes them one file.
///
/// A part is added under the upload's row lock, and only while the upload is pending, unexpired
/// and the parts still fit its declared size; completing moves the upload out of `pending` and
/// creates the file in one transaction, so an upload completes once or not at all.
public protocol UploadStore: Sendable {
    func createUpload(_ upload: StoredUpload) async throws
    func upload(id: String) async throws -> StoredUpload?
    /// Adds a part; `nil` when the upload no longer takes parts, else the upload as it stands.
    func addUploadPart(_ part: UploadPart, now: Date) async throws -> UploadPartAdmission
    func uploadParts(uploadID: String) async throws -> [UploadPart]
    /// Completes a pending upload as `file`; the upload as it stands when it was not pending.
    func completeUpload(id: String, file: StoredFile, now: Date) async throws -> StoredUpload
    /// Cancels a pending upload; the upload as it stands either way.
    func cancelUpload(id: String) async throws -> StoredUpload
    /// Marks pending uploads past their expiry expired; returns their ids, whose parts can go.
    func expireUploads(now: Date) async throws -> [String]
}
