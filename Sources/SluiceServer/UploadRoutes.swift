import Crypto
import Foundation
import Hummingbird
import NIOCore
import SluiceCore
import SluiceStorage
import SluiceStore

/// OpenAI's `/v1/uploads`: a large file sent in parts (create, add parts, complete, cancel), as
/// the SDK's `upload_file_chunked` does. Each part is kept as it arrives; completing streams the
/// parts, in the order given, into one file — never holding more than a chunk in memory.
struct UploadRoutes {
    let api: SluiceAPI
    /// The most one upload may hold, as OpenAI allows.
    static let maximumBytes = 8 << 30
    /// Room for the multipart envelope around a whole part.
    static let envelopeBytes = 64 << 10
    /// How long an upload takes parts before it expires.
    static let lifetime = 3600.0

    func add(to routes: RouteTable) {
        routes.add(.post, "/v1/uploads", create)
        routes.add(.post, "/v1/uploads/:id/parts", addPart)
        routes.add(.post, "/v1/uploads/:id/complete", complete)
        routes.add(.post, "/v1/uploads/:id/cancel", cancel)
    }

    func create(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let caller = try context.caller()
        let fields = try await api.jsonObject(request)
        guard let filename = fields["filename"]?.stringValue, (1...255).contains(filename.count) else {
            throw APIError.badRequest("filename must be 1 to 255 characters", param: "filename")
        }
        guard let purpose = fields["purpose"]?.stringValue else { throw APIError.badRequest("purpose is required", param: "purpose") }
        try BatchRoutes.checkPurpose(purpose)
        guard let bytes = fields["bytes"]?.intValue, (1...Self.maximumBytes).contains(bytes) else {
            throw APIError.badRequest("bytes must be an integer from 1 to \(Self.maximumBytes)", param: "bytes")
        }
        guard let mimeType = fields["mime_type"]?.stringValue, (1...255).contains(mimeType.count) else {
            throw APIError.badRequest("mime_type is required", param: "mime_type")
        }
        let expiresAfter = try ExpiresAfter.parse(fields["expires_after"], param: "expires_after")
        let now = api.clock.now()
        let upload = StoredUpload(
            id: Job.makeID(prefix: "upload_"), owner: caller.user, filename: filename, purpose: purpose, mimeType: mimeType,
            bytes: bytes, fileExpiresAfter: expiresAfter, createdAt: now, expiresAt: now.addingTimeInterval(Self.lifetime))
        try await api.uploads.createUpload(upload)
        return Response.json(object(upload, file: nil))
    }

    /// `multipart/form-data` with the part's bytes as `data`.
    func addPart(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let caller = try context.caller()
        let upload = try await owned(request, context: context)
        try checkPending(upload)
        let slot = try await api.admitUpload(request, caller: caller)
        defer { slot.release() }
        guard let boundary = request.headers[.contentType].flatMap(MultipartParser.boundary(fromContentType:)) else {
            throw APIError(.unsupportedMediaType, code: "unsupported_media_type", "send the part as multipart/form-data with 'data'")
        }
        let partLimit = api.configuration.maxUploadPartBytes
        let partID = Job.makeID(prefix: "part_")
        let folder = "uploads/\(upload.id)/\(partID)"
        return try await api.inFolder(folder) { path in
            let received = try await UploadReceiver(directory: path, limit: partLimit + Self.envelopeBytes)
                .receiveMultipart(request.body, boundary: boundary, fileFields: ["data"])
            guard received.files.count == 1, let file = received.files.first else {
                throw APIError.badRequest("send exactly one 'data' part", param: "data")
            }
            guard file.bytes <= partLimit else {
                throw APIError(
                    .contentTooLarge, code: "upload_too_large", "a part holds at most \(partLimit) bytes", param: "data")
            }
            try await api.ensureRoom(for: caller, bytes: file.bytes)
            let now = api.clock.now()
            let part = UploadPart(
                id: partID, uploadID: upload.id, bytes: file.bytes, path: try await api.keep(file, in: folder), createdAt: now)
            switch try await api.uploads.addUploadPart(part, now: now) {
            case .added: break
            case .closed(let status): throw APIError.badRequest("upload \(upload.id) is \(status.rawValue) and takes no more parts")
            case .tooLarge(let received):
                throw APIError.badRequest(
                    "the parts would hold \(received + file.bytes) bytes, more than the \(upload.bytes) the upload declared", param: "data")
            }
            return Response.json([
                "id": .string(part.id), "object": "upload.part", "created_at": .int(Int(now.timeIntervalSince1970)),
                "upload_id": .string(upload.id),
            ])
        }
    }

    /// Joins the parts named by `part_ids`, in that order, into a file; checks their total and,
    /// when given, the whole file's `md5`. Completing a completed upload answers it again.
    func complete(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let caller = try context.caller()
        let upload = try await owned(request, context: context)
        let fields = try await api.jsonObject(request)
        if upload.status == .completed { return Response.json(object(upload, file: try await file(of: upload))) }
        try checkPending(upload)
        guard case .array(let list)? = fields["part_ids"], !list.isEmpty else {
            throw APIError.badRequest("part_ids must be a non-empty list of the upload's part ids", param: "part_ids")
        }
        let ids = list.compactMap(\.stringValue)
        guard ids.count == list.count, Set(ids).count == ids.count else {
            throw APIError.badRequest("part_ids must name each part once", param: "part_ids")
        }
        let md5 = fields["md5"]?.stringValue.flatMap { $0.isEmpty ? nil : $0.lowercased() }
        let parts = Dictionary(uniqueKeysWithValues: try await api.uploads.uploadParts(uploadID: upload.id).map { ($0.id, $0) })
        var ordered: [UploadPart] = []
        for id in ids {
            guard let part = parts[id] else {
                throw APIError.badRequest("part \(id) is not a part of upload \(upload.id)", param: "part_ids")
            }
            ordered.append(part)
        }
        let total = ordered.reduce(0) { $0 + $1.bytes }
        guard total == upload.bytes else {
            throw APIError.badRequest("the parts hold \(total) bytes; the upload declared \(upload.bytes)", param: "part_ids")
        }
        let fileID = Job.makeID(prefix: "file-")
        let completed = try await api.inFolder("files/" + fileID) { folder in
            // Nothing asks the joined file's SHA-256, and its MD5 only when the client gave one.
            let joined = try await UploadFile(
                path: folder + "/" + UploadReceiver.safeName(upload.filename, index: 0), limit: upload.bytes, digesting: false)
            var hasher = md5.map { _ in Insecure.MD5() }
            do {
                for part in ordered {
                    try await api.storage.read(part.path) { chunk in
                        chunk.withUnsafeReadableBytes { hasher?.update(bufferPointer: $0) }
                        try await joined.write(chunk)
                    }
                }
                try await joined.finish()
            } catch {
                await joined.discard()
                throw error
            }
            if let md5, let digest = hasher?.finalize().map({ String(format: "%02x", $0) }).joined(), md5 != digest {
                throw APIError.badRequest("the parts' MD5 is \(digest), not the \(md5) given", param: "md5")
            }
            let received = ReceivedUpload.File(
                path: joined.path, filename: upload.filename, contentType: upload.mimeType, bytes: joined.bytes, digest: joined.digest)
            let now = api.clock.now()
            let file = StoredFile(
                id: fileID, owner: caller.user, filename: upload.filename, purpose: upload.purpose, bytes: joined.bytes,
                path: try await api.keep(received, in: "files/" + fileID), createdAt: now,
                expiresAt: upload.fileExpiresAfter.map { now.addingTimeInterval(Double($0)) })
            let stored = try await api.uploads.completeUpload(id: upload.id, file: file, now: now)
            guard stored.fileID == fileID else {
                // Another request completed (or cancelled) it first: this copy goes.
                throw APIError.conflict("upload \(upload.id) was \(stored.status.rawValue) by another request")
            }
            return (stored, file)
        }
        await api.discard("uploads/" + upload.id)
        return Response.json(object(completed.0, file: completed.1))
    }

    func cancel(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let upload = try await owned(request, context: context)
        guard upload.status == .pending || upload.status == .cancelled else {
            throw APIError.badRequest("upload \(upload.id) is \(upload.status.rawValue) and cannot be cancelled")
        }
        let cancelled = try await api.uploads.cancelUpload(id: upload.id)
        await api.discard("uploads/" + upload.id)
        return Response.json(object(cancelled, file: nil))
    }

    func owned(_ request: Request, context: SluiceRequestContext) async throws -> StoredUpload {
        let id = try context.parameters.require("id")
        guard let upload = try await api.uploads.upload(id: id), try context.caller().owns(upload.owner) else {
            throw APIError.notFound("upload \(id)")
        }
        return upload
    }

    func file(of upload: StoredUpload) async throws -> StoredFile? {
        guard let id = upload.fileID else { return nil }
        return try await api.files.file(id: id)
    }

    func checkPending(_ upload: StoredUpload) throws {
        guard upload.status == .pending, upload.expiresAt > api.clock.now() else {
            let status = upload.status == .pending ? "expired" : upload.status.rawValue
            throw APIError.badRequest("upload \(upload.id) is \(status)")
        }
    }

    func object(_ upload: StoredUpload, file: StoredFile?) -> JSONValue {
        let expired = upload.status == .pending && upload.expiresAt <= api.clock.now()
        return [
            "id": .string(upload.id), "object": "upload", "bytes": .int(upload.bytes),
            "created_at": .int(Int(upload.createdAt.timeIntervalSince1970)),
            "expires_at": .int(Int(upload.expiresAt.timeIntervalSince1970)),
            "filename": .string(upload.filename), "purpose": .string(upload.purpose),
            "status": .string(expired ? "expired" : upload.status.rawValue), "file": file.map(BatchRoutes.file) ?? .null,
        ]
    }
}
