public import Foundation
import SluiceCore

/// Uploads in parts (`/v1/uploads`), over the SQL seam.
public struct SQLUploadStore: UploadStore, SQLStore {
    let context: StoreContext

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
