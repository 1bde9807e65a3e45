import Foundation
import Hummingbird
import NIOCore
import NIOPosix
import SluiceCore
import SluiceEngine
import SluiceIngest
import SluiceStorage
import SluiceStore
import SluiceWire

/// Anthropic's Message Batches (`/v1/messages/batches`), in Anthropic's shapes, limits and
/// error bodies, so the official Anthropic SDK drives Sluice unchanged. A message batch is a
/// job of `anthropic_batch` lines (`{"custom_id", "params"}`), each routed by its model like an
/// OpenAI batch line; its `request_counts` are live while it runs (Anthropic's stay at zero until
/// the end).
struct MessageBatchRoutes {
    let api: SluiceAPI
    static let pathPrefix = "/v1/messages"
    /// Anthropic's limits on one batch.
    static let maximumRequests = 100_000
    /// Anthropic allows 256 MB; a body is parsed whole in memory, so Sluice takes 64 MiB (use
    /// more batches, or an OpenAI-style file upload, which streams, for more).
    static let maximumBytes = 64 << 20
    /// Message-batch bodies being read and parsed at once in this process: each can take a few
    /// times its size in memory.
    static let bodies = CallPermits(2)
    static let window = 24.0 * 3600

    func add(to routes: RouteTable) {
        routes.add(.post, "/v1/messages/batches", create)
        routes.add(.get, "/v1/messages/batches", list)
        routes.add(.get, "/v1/messages/batches/:id", get)
        routes.add(.post, "/v1/messages/batches/:id/cancel", cancel)
        routes.add(.delete, "/v1/messages/batches/:id", delete)
        routes.add(.get, "/v1/messages/batches/:id/results", results)
    }

    /// Checks every request as Anthropic does before answering — a bad one refuses the whole
    /// batch, naming it (`requests.3.params.max_tokens: …`) — then keeps them as JSON Lines.
    ///
    /// The body is read whole and parsed, so it takes one of the key's upload slots and one of
    /// the process's few body slots (``bodies``) first, and is parsed on the heavy-work pool:
    /// two 256 MiB bodies once took 2.7 GB and stalled `/healthz` for 15 s.
    func create(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let caller = try context.caller()
        let limit = min(Self.maximumBytes, api.configuration.maxUploadBytes)
        let slot = try await api.admitUpload(request, caller: caller)
        defer { slot.release() }
        guard await Self.bodies.acquire() else { throw CancellationError() }
        let checked: (lines: [UInt8], count: Int)
        do {
            defer { Self.bodies.release() }
            let buffer = try await request.body.collect(upTo: limit)
            checked = try await BlockingWork.heavy.run(owner: caller.user) { try Self.check(buffer) }
        }
        let (lines, count) = checked
        // Refused before the lines are written; checked again, once kept, as every job's inputs are.
        try await api.ensureRoom(for: caller, bytes: lines.count)
        let spec = try BatchRoutes(api: api).batchSpec(format: .anthropicBatch)
        let id = Job.makeID(prefix: "msgbatch_")
        return try await api.inFolder(id) { folder in
            let file = try await UploadFile(path: folder + "/input.jsonl", limit: lines.count)
            do {
                try await file.write(lines[...])
                try await file.finish()
            } catch {
                await file.discard()
                throw error
            }
            let received = ReceivedUpload.File(
                path: file.path, filename: "requests.jsonl", contentType: nil, bytes: file.bytes, digest: file.digest)
            let order = JobOrder(
                id: id, name: "message batch of \(count) requests", spec: spec, inputs: [.received(received, format: .anthropicBatch)],
                batch: BatchAttributes(
                    inputFileID: "", endpoint: BatchEndpoint.messages.rawValue, completionWindow: "24h", metadata: nil,
                    requestCount: count),
                expiresIn: Self.window)
            let job = try await api.createJob(order, caller: caller)
            return Response.json(object(job, request: request))
        }
    }

    /// The body's requests, checked, as JSON Lines, and how many there are.
    static func check(_ buffer: ByteBuffer) throws -> (lines: [UInt8], count: Int) {
        let fields = try SluiceAPI.jsonObject(buffer)
        if let unknown = fields.keys.first(where: { $0 != "requests" }) {
            throw APIError.badRequest("\(unknown): Extra inputs are not permitted", param: unknown)
        }
        guard case .array(let requests)? = fields["requests"], (1...Self.maximumRequests).contains(requests.count) else {
            throw APIError.badRequest("requests: must be a list of 1 to \(Self.maximumRequests) requests", param: "requests")
        }
        var seen = Set<String>()
        var lines: [UInt8] = []
        for (index, entry) in requests.enumerated() {
            guard case .object(let line) = entry else { throw APIError.badRequest("requests.\(index): must be an object") }
            switch RequestLine.check(line, endpoints: [.messages]) {
            case .failure(let problem):
                throw APIError.badRequest("requests.\(index).\(problem.param ?? ""): \(problem.message)")
            case .success(let customID):
                guard seen.insert(customID).inserted else {
                    throw APIError.badRequest(
                        "requests.\(index).custom_id: '\(customID)' is used by an earlier request; each must be unique")
                }
            }
            JSONWriter.write(entry, to: &lines)
            lines.append(0x0A)
        }
        return (lines, requests.count)
    }

    func get(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        Response.json(object(try await owned(request, context: context), request: request))
    }

    /// Newest first; `after_id` pages to older batches, `before_id` to newer.
    func list(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let caller = try context.caller()
        let limit = try SluiceAPI.limit(request, fallback: 20, maximum: 1_000)
        let after = request.uri.queryParameters["after_id"].map(String.init)
        let before = request.uri.queryParameters["before_id"].map(String.init)
        guard after == nil || before == nil else { throw APIError.badRequest("give after_id or before_id, not both") }
        var page = try await api.store.jobs(
            JobQuery(owner: caller.isAdmin ? nil : caller.user, kind: .messageBatch, after: after, before: before, limit: limit + 1))
        let hasMore = page.count > limit
        if hasMore {
            // The extra row is the one past the page: the oldest going back, the newest going forward.
            if before == nil { page.removeLast() } else { page.removeFirst() }
        }
        return Response.json([
            "data": .array(page.map { object($0, request: request) }), "has_more": .bool(hasMore),
            "first_id": page.first.map { .string($0.id) } ?? .null, "last_id": page.last.map { .string($0.id) } ?? .null,
        ])
    }

    func cancel(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let job = try await owned(request, context: context)
        guard !job.status.isFinal else { return Response.json(object(job, request: request)) }
        return Response.json(object(try await api.store.cancel(jobID: job.id, now: api.clock.now()), request: request))
    }

    /// Only an ended batch may be deleted, as Anthropic has it.
    func delete(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let job = try await owned(request, context: context)
        guard job.status.isFinal else {
            throw APIError.badRequest("message batch \(job.id) has not ended; cancel it and wait for it to end before deleting it")
        }
        try await api.store.deleteJob(jobID: job.id)
        await api.discard(job.id)
        return Response.json(["id": .string(job.id), "type": "message_batch_deleted"])
    }

    /// The results as JSON Lines, once the batch has ended.
    func results(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let job = try await owned(request, context: context)
        guard job.status.isFinal else {
            throw APIError.badRequest("message batch \(job.id) is still processing; its results are ready once it has ended")
        }
        let store = api.store
        // Asked once before the status line, so a failing store is an error, not a cut-off 200.
        _ = try await store.items(jobID: job.id, status: nil, afterIndex: -1, limit: 1)
        if let unread = Self.unreadRequests(job), let source = job.sources.first {
            return Response(
                status: .ok, headers: [.contentType: "application/x-jsonl"],
                body: ResponseBody { [storage = api.storage] writer in
                    try await Self.writeUnread(source.path, as: unread, owner: job.owner, storage: storage, to: &writer)
                    try await writer.finish(nil)
                })
        }
        return Response(
            status: .ok, headers: [.contentType: "application/x-jsonl"],
            body: ResponseBody { writer in
                try await BatchOutput.writeLines(of: job, store: store, line: { Self.result(for: $0, of: job) }) { bytes in
                    try await writer.write(ByteBuffer(bytes: bytes))
                }
                try await writer.finish(nil)
            })
    }

    /// How a batch that ended before its requests were read (cancelled, or expired, while
    /// validating) reports them: every one `canceled` or `expired`; `nil` for any other batch.
    static func unreadRequests(_ job: Job) -> String? {
        guard job.status.isFinal, job.counts.total == 0, (job.batch?.requestCount ?? 0) > 0 else { return nil }
        return job.status == .expired ? "expired" : "canceled"
    }

    /// The result lines of requests never read: their `custom_id`s from the kept input, in order,
    /// read by the ingest's own JSON Lines parser on the heavy-work pool, in `owner`'s share.
    static func writeUnread(
        _ path: String, as type: String, owner: String, storage: any FileStorage, to writer: inout any ResponseBodyWriter
    ) async throws {
        let customIDs = try await storage.withLocalFile(path) { local in
            try await BlockingWork.heavy.run(owner: owner) {
                let parser = JSONLinesRecordParser(reader: try ByteReader(path: local))
                var ids: [JSONValue] = []
                while let step = try parser.next() {
                    if case .record(let record) = step { ids.append(record.fields["custom_id"] ?? .null) }
                }
                return ids
            }
        }
        for page in stride(from: 0, to: customIDs.count, by: 1_000) {
            var lines: [UInt8] = []
            for customID in customIDs[page..<min(page + 1_000, customIDs.count)] {
                JSONWriter.write(["custom_id": customID, "result": ["type": .string(type)]], to: &lines)
                lines.append(0x0A)
            }
            try await writer.write(ByteBuffer(bytes: lines))
        }
    }

    func owned(_ request: Request, context: SluiceRequestContext) async throws -> Job {
        let id = try context.parameters.require("id")
        guard id.hasPrefix("msgbatch_"), let job = try await api.store.job(id: id), try context.caller().owns(job.owner) else {
            throw APIError.notFound("message batch \(id)")
        }
        return job
    }

    /// The message batch object; times are RFC 3339, as Anthropic's are.
    func object(_ job: Job, request: Request) -> JSONValue {
        let status: String
        switch job.status {
        case .cancelling: status = "canceling"
        case let final where final.isFinal: status = "ended"
        default: status = "in_progress"
        }
        let expired = job.status == .expired
        let counts = job.counts
        let processing = job.status == .validating ? (job.batch?.requestCount ?? 0) : counts.pending + counts.running
        let unread = Self.unreadRequests(job).map { _ in job.batch?.requestCount ?? 0 } ?? 0
        let host = request.head.authority ?? "\(api.configuration.host):\(api.configuration.port)"
        var batch = MessageBatch(
            id: job.id, processingStatus: status,
            requestCounts: MessageBatch.RequestCounts(
                processing: processing, succeeded: counts.succeeded, errored: counts.failed,
                canceled: expired ? 0 : counts.cancelled + unread, expired: expired ? counts.cancelled + unread : 0))
        batch.endedAt = job.status.isFinal ? Representation.timestamp(job.finishedAt).stringValue : nil
        batch.createdAt = Representation.timestamp(job.createdAt).stringValue
        batch.expiresAt = Representation.timestamp(job.expiresAt).stringValue
        // When a cancel began is not stored: a cancelled batch reports its end.
        batch.cancelInitiatedAt = job.status == .cancelled ? Representation.timestamp(job.finishedAt).stringValue : nil
        batch.resultsURL =
            job.status.isFinal ? "\(api.configuration.scheme)://\(host)/v1/messages/batches/\(job.id)/results" : nil
        return WireEncoder.encode(batch)
    }

    /// One request's result line: `succeeded` with the message, `errored` with an Anthropic
    /// error, `canceled`, or `expired`.
    static func result(for item: Item, of job: Job) -> JSONValue {
        let outcome: MessageBatchResult.Outcome
        switch item.status {
        case .succeeded:
            let (text, toolCalls) = CallOutput.read(item.output)
            outcome = .succeeded(
                MessagesReply(
                    id: "msg_\(item.jobID.suffix(12))_\(item.index)", model: item.model ?? "", text: text, usage: item.usage,
                    stopReason: FinishReason.anthropic(item.finishReason), toolCalls: toolCalls))
        case .failed: outcome = .errored(message: item.error ?? "the request failed")
        default: outcome = job.status == .expired ? .expired : .canceled
        }
        return WireEncoder.encode(MessageBatchResult(customID: item.input["custom_id"] ?? .null, outcome: outcome))
    }
}
