import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SluiceCore

/// What an upload request delivered: its small form fields, and its files already on disk.
struct ReceivedUpload {
    struct File {
        var path: String
        var filename: String
        var contentType: String?
        var bytes: Int
        /// The SHA-256 of its bytes, in hex.
        var digest: String
    }

    var fields: [(name: String, value: String)] = []
    var files: [File] = []

    /// What identifies the upload whatever multipart boundary carried it: its fields and its
    /// files' names, sizes and digests, for recognising a retried create (``Idempotency``).
    var fingerprint: String {
        var parts = fields.map { "field \($0.name)=\($0.value)" }
        parts += files.map { "file \($0.filename) \($0.bytes) \($0.digest)" }
        return Idempotency.digest(parts.joined(separator: "\n"))
    }
}
