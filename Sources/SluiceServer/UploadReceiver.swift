import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SluiceCore

/// Streams a request body to disk — raw, or `multipart/form-data` split into its parts —
/// never holding more than a chunk in memory, and refusing it with `413` the moment it
/// passes the limit. Nothing it wrote survives a failure.
struct UploadReceiver {
    let directory: String
    let limit: Int
    /// The largest non-file form field (a spec, a preset name).
    static let maxFieldBytes = 1 << 20
    /// Form fields are held in memory: at most this many, and this much all together (400 MiB
    /// of small fields once took 523 MB). Files are on disk, but each holds a descriptor.
    static let maxFields = 100
    static let maxFieldsBytes = 4 << 20
    static let maxFiles = 100

    /// `multipart/form-data`: every part with a file name, or named in `fileFields`, goes to disk.
    func receiveMultipart(_ body: RequestBody, boundary: String, fileFields: Set<String> = ["file"]) async throws -> ReceivedUpload {
        var parser = MultipartParser(boundary: boundary)
        var upload = ReceivedUpload()
        var total = 0
        var currentFile: UploadFile?
        var currentPart: MultipartParser.Part?
        var fieldBytes: [UInt8] = []
        var fieldsBytes = 0
        var parts = 0
        do {
            for try await buffer in body {
                total += buffer.readableBytes
                guard total <= limit else { throw UploadFile.TooLarge() }
                let events: [MultipartParser.Event]
                do {
                    events = try buffer.withUnsafeReadableBytes { try parser.feed($0) }
                } catch let failure as MultipartParser.Failure {
                    throw APIError.badRequest(failure.message)
                }
                for event in events {
                    switch event {
                    case .partStart(let part):
                        currentPart = part
                        fieldBytes.removeAll()
                        parts += 1
                        guard upload.fields.count < Self.maxFields, upload.files.count < Self.maxFiles,
                            parts <= Self.maxFields + Self.maxFiles
                        else {
                            throw APIError.badRequest(
                                "the form has too many parts: at most \(Self.maxFields) fields and \(Self.maxFiles) files are accepted")
                        }
                        if part.filename != nil || fileFields.contains(part.name) {
                            let name = Self.safeName(part.filename ?? "upload", index: upload.files.count)
                            currentFile = try await UploadFile(path: directory + "/" + name, limit: limit)
                        }
                    case .data(let bytes):
                        if let file = currentFile {
                            try await file.write(bytes)
                        } else {
                            fieldBytes += bytes
                            fieldsBytes += bytes.count
                            guard fieldBytes.count <= Self.maxFieldBytes else {
                                throw APIError(
                                    .contentTooLarge, code: "field_too_large",
                                    "form field '\(currentPart?.name.prefix(100) ?? "")' is larger than 1 MiB, the limit of one field")
                            }
                            guard fieldsBytes <= Self.maxFieldsBytes else {
                                throw APIError(
                                    .contentTooLarge, code: "fields_too_large",
                                    "the form's fields hold more than \(Self.maxFieldsBytes >> 20) MiB together, the limit of a form")
                            }
                        }
                    case .partEnd:
                        guard let part = currentPart else { continue }
                        if let file = currentFile {
                            try await file.finish()
                            currentFile = nil
                            upload.files.append(
                                .init(
                                    path: file.path, filename: part.filename ?? "upload", contentType: part.contentType, bytes: file.bytes,
                                    digest: file.digest))
                        } else {
                            upload.fields.append((part.name, String(decoding: fieldBytes, as: UTF8.self)))
                        }
                        currentPart = nil
                    }
                }
            }
            do {
                try parser.finish()
            } catch {
                throw APIError.badRequest(error.message)
            }
        } catch {
            await currentFile?.discard()
            throw error is UploadFile.TooLarge ? APIError.tooLarge(limit: limit) : error
        }
        return upload
    }

    /// A raw body (`text/csv`, `application/x-ndjson`, …) as one file named `filename`.
    func receiveRaw(_ body: RequestBody, filename: String, contentType: String?) async throws -> ReceivedUpload {
        let file = try await UploadFile(path: directory + "/" + Self.safeName(filename, index: 0), limit: limit)
        do {
            for try await buffer in body { try await file.write(buffer) }
            try await file.finish()
        } catch {
            await file.discard()
            throw error is UploadFile.TooLarge ? APIError.tooLarge(limit: limit) : error
        }
        return ReceivedUpload(
            files: [.init(path: file.path, filename: filename, contentType: contentType, bytes: file.bytes, digest: file.digest)])
    }

    /// A file name safe to create inside the upload folder, unique per part, keeping its extension.
    static func safeName(_ filename: String, index: Int) -> String {
        let base = filename.split(separator: "/").last.map(String.init) ?? "upload"
        let cleaned = String(
            base.unicodeScalars.map { scalar in
                CharacterSet.alphanumerics.contains(scalar) || ".-_".unicodeScalars.contains(scalar) ? Character(scalar) : "_"
            }.prefix(100))
        return "\(index)-" + (cleaned.isEmpty || cleaned.hasPrefix(".") ? "upload" + cleaned : cleaned)
    }

    /// The input format a content type names, for raw uploads and parts.
    static func format(contentType: String?) -> InputFormat? {
        guard let contentType else { return nil }
        let mime = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        switch mime {
        case "text/csv": return .csv
        case "application/json": return .json
        case "application/x-ndjson", "application/jsonl", "application/x-jsonlines", "application/jsonlines": return .jsonl
        case "text/plain", "text/markdown": return .text
        case "application/pdf": return .pdf
        case "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": return .xlsx
        case "application/zip", "application/x-zip-compressed": return .zip
        default: return nil
        }
    }
}
