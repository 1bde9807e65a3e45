public import Foundation
import SluiceCore

/// Batch API files (`/v1/files`), over the SQL seam.
public struct SQLFileStore: FileStore, SQLStore {
    let context: StoreContext

    public func createFile(_ file: StoredFile) async throws {
        try await write { tx in
            try tx.execute(
                "INSERT INTO files (\(StoreRows.fileColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    .text(file.id), .text(file.owner), .text(file.filename), .text(file.purpose), SQLValue(file.bytes), .text(file.path),
                    SQLValue(file.createdAt), SQLValue(file.expiresAt),
                ])
        }
    }

    public func file(id: String) async throws -> StoredFile? {
        try await read { tx in try tx.row("SELECT \(StoreRows.fileColumns) FROM files WHERE id = ?", [.text(id)]).map(StoreRows.file) }
    }

    public func files(owner: String?, purpose: String?, after: String?, limit: Int, oldestFirst: Bool) async throws -> [StoredFile] {
        var conditions: [String] = []
        var arguments: [SQLValue] = []
        if let owner {
            conditions.append("owner = ?")
            arguments.append(.text(owner))
        }
        if let purpose {
            conditions.append("purpose = ?")
            arguments.append(.text(purpose))
        }
        if let after {
            conditions.append(
                oldestFirst
                    ? "seq > COALESCE((SELECT seq FROM files WHERE id = ?), 9223372036854775807)"
                    : "seq < COALESCE((SELECT seq FROM files WHERE id = ?), -1)")
            arguments.append(.text(after))
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try await read { [arguments] tx in
            try tx.rows(
                "SELECT \(StoreRows.fileColumns) FROM files \(filter) ORDER BY seq \(oldestFirst ? "ASC" : "DESC") LIMIT ?",
                arguments + [SQLValue(limit)]
            ).map(StoreRows.file)
        }
    }

    public func expiredFiles(now: Date, createdBefore: Date?, limit: Int) async throws -> [StoredFile] {
        try await read { tx in
            try tx.rows(
                "SELECT \(StoreRows.fileColumns) FROM files WHERE expires_at <= ? OR created_at < ? ORDER BY created_at LIMIT ?",
                [SQLValue(now), SQLValue(createdBefore ?? .distantPast), SQLValue(limit)]
            ).map(StoreRows.file)
        }
    }

    public func deleteFile(id: String) async throws -> Bool {
        try await write { tx in try tx.execute("DELETE FROM files WHERE id = ?", [.text(id)]) > 0 }
    }
}
