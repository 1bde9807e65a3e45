import Foundation

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

public enum UploadPartAdmission: Sendable, Equatable {
    case added
    /// The upload is not pending (or has expired).
    case closed(StoredUpload.Status)
    /// The parts would hold more than the upload's declared bytes.
    case tooLarge(received: Int)
}

extension SQLJobStore {
    static let uploadColumns = "id, owner, filename, purpose, mime_type, bytes, status, file_id, file_expires_after, created_at, expires_at"

    public func createUpload(_ upload: StoredUpload) async throws {
        try await write { tx in
            try tx.execute(
                "INSERT INTO uploads (\(Self.uploadColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    .text(upload.id), .text(upload.owner), .text(upload.filename), .text(upload.purpose), .text(upload.mimeType),
                    SQLValue(upload.bytes), .text(upload.status.rawValue), SQLValue(upload.fileID), SQLValue(upload.fileExpiresAfter),
                    SQLValue(upload.createdAt), SQLValue(upload.expiresAt),
                ])
        }
    }

    public func upload(id: String) async throws -> StoredUpload? {
        try await read { tx in try Self.fetchUpload(tx, id: id) }
    }

    public func addUploadPart(_ part: UploadPart, now: Date) async throws -> UploadPartAdmission {
        let lock = database.lockClause
        return try await write { tx in
            guard
                let upload = try tx.row("SELECT \(Self.uploadColumns) FROM uploads WHERE id = ? \(lock)", [.text(part.uploadID)]).map(
                    Self.upload)
            else { throw StoreError.conflict("upload \(part.uploadID) is gone", nil) }
            guard upload.status == .pending, upload.expiresAt > now else {
                return .closed(upload.status == .pending ? .expired : upload.status)
            }
            let received =
                try tx.row("SELECT COALESCE(SUM(bytes), 0) AS total FROM upload_parts WHERE upload_id = ?", [.text(part.uploadID)])?
                .int("total") ?? 0
            guard received + part.bytes <= upload.bytes else { return .tooLarge(received: received) }
            try tx.execute(
                "INSERT INTO upload_parts (id, upload_id, bytes, path, created_at) VALUES (?, ?, ?, ?, ?)",
                [.text(part.id), .text(part.uploadID), SQLValue(part.bytes), .text(part.path), SQLValue(part.createdAt)])
            return .added
        }
    }

    public func uploadParts(uploadID: String) async throws -> [UploadPart] {
        try await read { tx in
            try tx.rows("SELECT id, upload_id, bytes, path, created_at FROM upload_parts WHERE upload_id = ?", [.text(uploadID)]).map {
                row in
                UploadPart(
                    id: try row.text("id"), uploadID: try row.text("upload_id"), bytes: try row.int("bytes"), path: try row.text("path"),
                    createdAt: try row.date("created_at"))
            }
        }
    }

    public func completeUpload(id: String, file: StoredFile, now: Date) async throws -> StoredUpload {
        try await write { tx in
            let changed = try tx.execute(
                "UPDATE uploads SET status = \(StoredUpload.Status.completed.sql), file_id = ? WHERE id = ? AND status = \(StoredUpload.Status.pending.sql) AND expires_at > ?",
                [.text(file.id), .text(id), SQLValue(now)])
            if changed == 1 {
                try tx.execute(
                    "INSERT INTO files (\(StoreRows.fileColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        .text(file.id), .text(file.owner), .text(file.filename), .text(file.purpose), SQLValue(file.bytes),
                        .text(file.path),
                        SQLValue(file.createdAt), SQLValue(file.expiresAt),
                    ])
            }
            guard let upload = try Self.fetchUpload(tx, id: id) else { throw StoreError.conflict("upload \(id) is gone", nil) }
            return upload
        }
    }

    public func cancelUpload(id: String) async throws -> StoredUpload {
        try await write { tx in
            try tx.execute(
                "UPDATE uploads SET status = \(StoredUpload.Status.cancelled.sql) WHERE id = ? AND status = \(StoredUpload.Status.pending.sql)",
                [.text(id)])
            guard let upload = try Self.fetchUpload(tx, id: id) else { throw StoreError.conflict("upload \(id) is gone", nil) }
            return upload
        }
    }

    public func expireUploads(now: Date) async throws -> [String] {
        try await write { tx in
            try tx.rows(
                "UPDATE uploads SET status = \(StoredUpload.Status.expired.sql) WHERE status = \(StoredUpload.Status.pending.sql) AND expires_at <= ? RETURNING id",
                [SQLValue(now)]
            )
            .map { try $0.text("id") }
        }
    }

    static func fetchUpload(_ tx: any SQLTransaction, id: String) throws -> StoredUpload? {
        try tx.row("SELECT \(uploadColumns) FROM uploads WHERE id = ?", [.text(id)]).map(upload)
    }

    static func upload(_ row: SQLRow) throws -> StoredUpload {
        let id = try row.text("id")
        guard let status = StoredUpload.Status(rawValue: try row.text("status")) else { throw StoreError.corrupt("status of upload \(id)") }
        return StoredUpload(
            id: id, owner: try row.text("owner"), filename: try row.text("filename"), purpose: try row.text("purpose"),
            mimeType: try row.text("mime_type"), bytes: try row.int("bytes"), status: status, fileID: try row.optionalText("file_id"),
            fileExpiresAfter: try row.optionalInt64("file_expires_after").map { Int($0) }, createdAt: try row.date("created_at"),
            expiresAt: try row.date("expires_at"))
    }
}
