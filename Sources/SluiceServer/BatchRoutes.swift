import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SluiceCore
import SluiceEngine
import SluicePresets
import SluiceStorage
import SluiceStore
import SluiceWire

/// The OpenAI Batch API: `/v1/files` and `/v1/batches`, in OpenAI's shapes and status codes,
/// so the official SDKs drive Sluice unchanged. A batch is a job whose input format is
/// `openai_batch` — chat-completions, embeddings or responses lines, as its `endpoint` says —
/// and whose provider is chosen per line by its `model`.
struct BatchRoutes {
    let api: SluiceAPI
    static let purposes: Set<String> = ["batch", "assistants", "fine-tune", "vision", "user_data", "evals"]

    func add(to routes: RouteTable) {
        routes.add(.post, "/v1/files", uploadFile)
        routes.add(.get, "/v1/files", listFiles)
        routes.add(.get, "/v1/files/:id", getFile)
        routes.add(.delete, "/v1/files/:id", deleteFile)
        routes.add(.get, "/v1/files/:id/content", fileContent)
        routes.add(.post, "/v1/batches", createBatch)
        routes.add(.get, "/v1/batches", listBatches)
        routes.add(.get, "/v1/batches/:id", getBatch)
        routes.add(.post, "/v1/batches/:id/cancel", cancelBatch)
        routes.add(.post, "/v1/batches/:id/retry", retryBatch)
    }

    // MARK: Files

    func uploadFile(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let caller = try context.caller()
        let slot = try await api.admitUpload(request, caller: caller)
        defer { slot.release() }
        guard let boundary = request.headers[.contentType].flatMap(MultipartParser.boundary(fromContentType:)) else {
            throw APIError(
                .unsupportedMediaType, code: "unsupported_media_type", "upload files as multipart/form-data with 'file' and 'purpose'")
        }
        _ = try Idempotency.key(of: request)
        let id = Job.makeID(prefix: "file-")
        return try await api.inFolder("files/" + id) { folder in
            let upload = try await UploadReceiver(directory: folder, limit: api.configuration.maxUploadBytes)
                .receiveMultipart(request.body, boundary: boundary)
            guard upload.files.count == 1, let file = upload.files.first else {
                throw APIError.badRequest("send exactly one 'file' part", param: "file")
            }
            func field(_ name: String) -> String? { upload.fields.last(where: { $0.name == name })?.value }
            guard let purpose = field("purpose") else { throw APIError.badRequest("'purpose' is required", param: "purpose") }
            try Self.checkPurpose(purpose)
            let expiresAfter = try ExpiresAfter.parse(
                anchor: field("expires_after[anchor]"), seconds: field("expires_after[seconds]"), param: "expires_after")
            return try await Idempotency.once(
                request, caller: caller, route: "POST /v1/files", fingerprint: upload.fingerprint, store: api.idempotency, clock: api.clock,
                discard: { await api.discard("files/" + id) }
            ) {
                try await api.ensureRoom(for: caller, bytes: file.bytes)
                let now = api.clock.now()
                let stored = StoredFile(
                    id: id, owner: caller.user, filename: file.filename, purpose: purpose, bytes: file.bytes,
                    path: try await api.keep(file, in: "files/" + id), createdAt: now,
                    expiresAt: expiresAfter.map { now.addingTimeInterval(Double($0)) })
                try await api.files.createFile(stored)
                return Idempotency.Answer(body: Self.file(stored))
            }
        }
    }

    static func checkPurpose(_ purpose: String) throws {
        guard purposes.contains(purpose) else {
            throw APIError.badRequest(
                "unknown purpose '\(purpose)' (one of \(purposes.sorted().joined(separator: ", ")))", param: "purpose")
        }
    }

    func listFiles(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let caller = try context.caller()
        let limit = try SluiceAPI.limit(request, fallback: 10_000, maximum: 10_000)
        let order = request.uri.queryParameters["order"].map(String.init) ?? "desc"
        guard order == "desc" || order == "asc" else { throw APIError.badRequest("order must be asc or desc", param: "order") }
        let page = try await api.files.files(
            owner: caller.isAdmin ? nil : caller.user, purpose: request.uri.queryParameters["purpose"].map(String.init),
            after: request.uri.queryParameters["after"].map(String.init), limit: limit + 1, oldestFirst: order == "asc")
        let now = api.clock.now()
        return Response.json(Representation.page(page.filter { !$0.hasExpired(now: now) }, limit: limit, id: \.id, render: Self.file))
    }

    func getFile(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let caller = try context.caller()
        if let (job, kind) = try await outputFile(id, caller: caller) {
            return Response.json(
                Self.outputFileObject(
                    id: id, job: job, kind: kind, bytes: try await BatchOutput.size(job: job, kind: kind, store: api.store)))
        }
        return Response.json(Self.file(try await ownedFile(id, caller: caller)))
    }

    /// A file's bytes, resumable (``Download``): an uploaded file as stored, or a batch's
    /// output or error file written from its items (measured first only when a range needs its size).
    func fileContent(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let caller = try context.caller()
        let store = api.store
        if let (job, kind) = try await outputFile(id, caller: caller) {
            return try await Download.response(
                request, etag: BatchOutput.etag(job: job, kind: kind), filename: id + ".jsonl", size: nil,
                measure: { try await BatchOutput.size(job: job, kind: kind, store: store) }
            ) { range, writer in
                var offset = 0
                try await BatchOutput.write(job: job, kind: kind, store: store) { chunk in
                    let part = Download.slice(chunk, at: offset, in: range)
                    offset += chunk.count
                    if !part.isEmpty { try await writer.write(ByteBuffer(bytes: part)) }
                }
            }
        }
        let file = try await ownedFile(id, caller: caller)
        let storage = api.storage
        return try await Download.response(
            request, etag: "\"\(file.id)\"", filename: file.filename, size: file.bytes, measure: { file.bytes }
        ) { range, writer in
            try await storage.read(file.path, range: range) { chunk in try await writer.write(chunk) }
        }
    }

    func deleteFile(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let file = try await ownedFile(id, caller: try context.caller())
        _ = try await api.files.deleteFile(id: id)
        // A batch made from the file keeps its own copy of the bytes.
        await api.discard("files/" + id)
        return Response.json(["id": .string(file.id), "object": "file", "deleted": true])
    }

    /// A file the caller may see and that has not expired; anything else is `404`.
    func ownedFile(_ id: String, caller: Principal) async throws -> StoredFile {
        guard let file = try await api.files.file(id: id), caller.owns(file.owner), !file.hasExpired(now: api.clock.now()) else {
            throw APIError.notFound("file \(id)")
        }
        return file
    }

    /// The batch behind an output or error file id, which Sluice writes from the items on
    /// demand; `404` once the batch's `output_expires_after` has passed.
    func outputFile(_ id: String, caller: Principal) async throws -> (Job, BatchOutput.Kind)? {
        guard let (batchID, kind) = BatchOutput.parse(fileID: id) else { return nil }
        guard let job = try await api.store.job(id: batchID), job.batch != nil, caller.owns(job.owner),
            BatchOutput.expiry(of: job).map({ $0 > api.clock.now() }) ?? true
        else {
            throw APIError.notFound("file \(id)")
        }
        return (job, kind)
    }

    static func file(_ file: StoredFile) -> JSONValue {
        [
            "id": .string(file.id), "object": "file", "bytes": .int(file.bytes),
            "created_at": .int(Int(file.createdAt.timeIntervalSince1970)),
            "expires_at": file.expiresAt.map { .int(Int($0.timeIntervalSince1970)) } ?? .null,
            "filename": .string(file.filename), "purpose": .string(file.purpose), "status": "processed", "status_details": nil,
        ]
    }

    static func outputFileObject(id: String, job: Job, kind: BatchOutput.Kind, bytes: Int) -> JSONValue {
        [
            "id": .string(id), "object": "file", "bytes": .int(bytes),
            "created_at": .int(Int((job.finishedAt ?? job.createdAt).timeIntervalSince1970)),
            "expires_at": BatchOutput.expiry(of: job).map { .int(Int($0.timeIntervalSince1970)) } ?? .null,
            "filename": .string("\(job.id)_\(kind == .output ? "output" : "error").jsonl"), "purpose": "batch_output",
            "status": "processed", "status_details": nil,
        ]
    }

    // MARK: Batches

    func createBatch(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let caller = try context.caller()
        _ = try Idempotency.key(of: request)
        let buffer = try await request.body.collect(upTo: 1 << 20)
        let fields = try SluiceAPI.jsonObject(buffer)
        guard let inputFileID = fields["input_file_id"]?.stringValue else {
            throw APIError.badRequest("input_file_id is required", param: "input_file_id")
        }
        guard let endpoint = fields["endpoint"]?.stringValue else { throw APIError.badRequest("endpoint is required", param: "endpoint") }
        guard let batchEndpoint = BatchEndpoint(rawValue: endpoint), BatchEndpoint.openAI.contains(batchEndpoint) else {
            throw APIError.badRequest(
                "endpoint must be one of \(BatchEndpoint.openAI.map(\.rawValue).joined(separator: ", "))", param: "endpoint")
        }
        // OpenAI's form is "24h"; any window from 1h to 7d is a deadline this server keeps.
        guard let window = fields["completion_window"]?.stringValue,
            let windowSeconds = try? JobDeadline.parse(.string(window), field: "completion_window")
        else {
            throw APIError.badRequest(
                "completion_window must be a duration from 1h to 7d, such as \"24h\" (OpenAI's) or \"2h\"", param: "completion_window")
        }
        var metadata: JSONObject?
        switch fields["metadata"] {
        case nil, .null?: metadata = nil
        case .object(let members)?:
            guard members.count <= 16, members.allSatisfy({ $0.value.stringValue.map { $0.count <= 512 } ?? false }),
                members.allSatisfy({ $0.key.count <= 64 })
            else {
                throw APIError.badRequest(
                    "metadata holds at most 16 string values (keys up to 64, values up to 512 characters)", param: "metadata")
            }
            metadata = members
        default: throw APIError.badRequest("metadata must be an object of strings", param: "metadata")
        }
        let outputExpiresAfter = try ExpiresAfter.parse(fields["output_expires_after"], param: "output_expires_after")
        let file = try await ownedFile(inputFileID, caller: caller)
        guard file.purpose == "batch" else {
            throw APIError.badRequest(
                "file \(inputFileID) was uploaded with purpose '\(file.purpose)', not 'batch'", param: "input_file_id")
        }
        let spec = try batchSpec(format: .openAIBatch)
        let id = Job.makeID(prefix: "batch_")
        return try await Idempotency.once(
            request, caller: caller, route: "POST /v1/batches", fingerprint: Idempotency.digest(String(buffer: buffer)),
            store: api.idempotency,
            clock: api.clock,
            discard: {}
        ) {
            try await api.inFolder(id) { _ in
                // The batch keeps its input even if the file is deleted: a hard link on disk, a
                // server-side copy in a bucket.
                let order = JobOrder(
                    id: id, name: metadata?["description"]?.stringValue ?? "batch of \(file.filename)", spec: spec,
                    inputs: [
                        .copy(path: file.path, as: "input.jsonl", displayName: file.filename, bytes: file.bytes, format: .openAIBatch)
                    ],
                    batch: BatchAttributes(
                        inputFileID: inputFileID, endpoint: endpoint, completionWindow: window, metadata: metadata,
                        outputExpiresAfter: outputExpiresAfter),
                    expiresIn: windowSeconds)
                let job = try await api.createJob(order, caller: caller)
                return Idempotency.Answer(body: try await batchObject(job))
            }
        }
    }

    /// The spec every batch runs with: lines routed by model. No failure brake: the Batch APIs
    /// have no resume, so a paused batch could never finish; failing lines end as errors in
    /// the batch's results, as the providers' own do. The result cache only when the
    /// configuration turns it on for these routes: their clients expect a real completion per line.
    func batchSpec(format: InputFormat) throws -> JobSpec {
        do {
            return try api.resolver.resolve([
                "input": ["format": .string(format.rawValue)], "provider": .string(JobSpec.routedProvider), "failure_brake": false,
                "cache": .bool(api.resolver.configuration.cache.batchAPIs),
            ])
        } catch {
            // The server's own configuration is at fault: a failure, told as one.
            throw APIError(.internalServerError, code: "server_error", "the batch spec does not resolve: \(error)")
        }
    }

    func getBatch(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        Response.json(try await batchObject(try await ownedBatch(try context.parameters.require("id"), caller: try context.caller())))
    }

    func listBatches(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let caller = try context.caller()
        let limit = try SluiceAPI.limit(request, fallback: 20, maximum: 100)
        let page = try await api.store.jobs(
            JobQuery(
                owner: caller.isAdmin ? nil : caller.user, kind: .batch, after: request.uri.queryParameters["after"].map(String.init),
                limit: limit + 1))
        var objects: [JSONValue] = []
        for job in page { objects.append(try await batchObject(job)) }
        return Response.json(Representation.page(Array(zip(page, objects)), limit: limit, id: \.0.id, render: \.1))
    }

    /// `POST /v1/batches/{id}/retry` (Sluice's extension; OpenAI has none): runs the failed lines
    /// of a finished batch again, into the same output and error files — the lines that
    /// succeeded are not sent again. A batch whose window has passed gets a new one of the same
    /// length. `409` for a batch still running or with no failed line.
    func retryBatch(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let job = try await ownedBatch(try context.parameters.require("id"), caller: try context.caller())
        guard job.status.isFinal, job.counts.failed > 0 else {
            throw APIError(
                .conflict, code: "nothing_to_retry",
                job.status.isFinal ? "batch \(job.id) has no failed lines" : "batch \(job.id) has not finished; retry it once it has")
        }
        let retried = try await api.store.retryFailed(jobID: job.id, now: api.clock.now())
        return Response.json(try await batchObject(retried))
    }

    func cancelBatch(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let job = try await ownedBatch(try context.parameters.require("id"), caller: try context.caller())
        let cancelled = try await api.store.cancel(jobID: job.id, now: api.clock.now())
        return Response.json(try await batchObject(cancelled))
    }

    func ownedBatch(_ id: String, caller: Principal) async throws -> Job {
        guard let job = try await api.store.job(id: id), let batch = job.batch, batch.endpoint != BatchEndpoint.messages.rawValue,
            caller.owns(job.owner)
        else {
            throw APIError.notFound("batch \(id)")
        }
        return job
    }

    /// The batch object with its `model`: the model its first request names (a batch is one
    /// model's, as OpenAI's are), `nil` until its lines are read.
    func batchObject(_ job: Job) async throws -> JSONValue {
        let first = try await api.store.items(jobID: job.id, status: nil, afterIndex: -1, limit: 1).first
        return Self.batch(job, model: first.flatMap { RequestLine.model(of: $0.input) })
    }

    /// The OpenAI batch object for a job; counts are live while it runs.
    static func batch(_ job: Job, model: String?) -> JSONValue {
        let attributes = job.batch
        func seconds(_ date: Date?) -> Int? { date.map { Int($0.timeIntervalSince1970) } }
        // OpenAI's `failed` means the input was refused; a batch whose every request failed
        // still completed, with its failures in the error file.
        let inputRefused = job.status == .failed && job.counts.total == 0
        let completed = job.status == .completed || job.status == .completedWithErrors || (job.status == .failed && !inputRefused)
        let status: String
        switch job.status {
        case .validating: status = "validating"
        case .queued, .running, .paused: status = "in_progress"
        case .completed, .completedWithErrors: status = "completed"
        case .failed: status = inputRefused ? "failed" : "completed"
        case .cancelling: status = "cancelling"
        case .cancelled: status = "cancelled"
        case .expired: status = "expired"
        }
        var times = BatchObject.Times(createdAt: seconds(job.createdAt) ?? 0)
        times.inProgressAt = seconds(job.startedAt)
        times.expiresAt = seconds(job.expiresAt)
        times.finalizingAt = completed ? seconds(job.finishedAt) : nil
        times.completedAt = completed ? seconds(job.finishedAt) : nil
        times.failedAt = inputRefused ? seconds(job.finishedAt) : nil
        times.expiredAt = job.status == .expired ? seconds(job.finishedAt) : nil
        // When a cancel began is not stored; a cancelled batch reports its end for both.
        times.cancellingAt = job.status == .cancelled ? seconds(job.finishedAt) : nil
        times.cancelledAt = job.status == .cancelled ? seconds(job.finishedAt) : nil
        var object = BatchObject(
            id: job.id, endpoint: attributes?.endpoint ?? BatchEndpoint.chatCompletions.rawValue, model: model,
            inputFileID: attributes?.inputFileID ?? "", completionWindow: attributes?.completionWindow ?? "24h", status: status,
            times: times,
            requestCounts: BatchObject.RequestCounts(
                total: job.counts.total, completed: job.counts.succeeded, failed: job.counts.failed + job.counts.cancelled),
            usage: job.usage)
        if inputRefused, !job.errors.isEmpty {
            object.errors = job.errors.map {
                BatchObject.InputError(code: $0.code ?? "invalid_request", message: $0.message, line: $0.line)
            }
        }
        let final = job.status.isFinal && !inputRefused
        object.outputFileID = final && job.counts.succeeded > 0 ? BatchOutput.fileID(batchID: job.id, kind: .output) : nil
        object.errorFileID =
            final && job.counts.failed + job.counts.cancelled > 0 ? BatchOutput.fileID(batchID: job.id, kind: .errors) : nil
        object.metadata = attributes?.metadata
        return WireEncoder.encode(object)
    }
}
