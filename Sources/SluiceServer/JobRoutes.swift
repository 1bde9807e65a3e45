import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOFileSystem
import SluiceCore
import SluiceEngine
import SluicePresets
import SluiceProviders
import SluiceStorage
import SluiceStore

/// The native API under `/v1/jobs`.
struct JobRoutes {
    let api: SluiceAPI

    func add(to routes: RouteTable) {
        let store = api.store
        routes.add(.post, "/v1/jobs", create)
        routes.add(.get, "/v1/jobs", list)
        routes.add(.get, "/v1/jobs/:id", get)
        routes.add(.delete, "/v1/jobs/:id", delete)
        routes.add(.get, "/v1/jobs/:id/items", items)
        routes.add(.get, "/v1/jobs/:id/results", results)
        routes.add(.get, "/v1/jobs/:id/result", result)
        routes.add(.get, "/v1/jobs/:id/events", events)
        routes.add(.post, "/v1/jobs/:id/cancel") { try await control($0, $1) { id, now in try await store.cancel(jobID: id, now: now) } }
        routes.add(.post, "/v1/jobs/:id/pause") {
            try await control($0, $1) { id, now in try await store.pause(jobID: id, reason: "paused by request", now: now) }
        }
        routes.add(.post, "/v1/jobs/:id/resume", resume)
        routes.add(.post, "/v1/jobs/:id/priority", setPriority)
        routes.add(.post, "/v1/jobs/:id/retry") {
            try await control($0, $1) { id, now in try await store.retryFailed(jobID: id, now: now) }
        }
    }

    /// `POST /v1/jobs`: stores the upload, creates the job in `validating` and answers `202` at
    /// once; the ingest loop reads it in the background. With `dry_run=true` (in the query or
    /// the form) it stores nothing: the whole upload is read, a few sample calls are made, and
    /// the answer is the estimate (``JobEstimate``) — `200`, or `400` naming the input's problem.
    func create(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let caller = try context.caller()
        let dryRunQuery = request.uri.queryParameters["dry_run"].map(String.init)
        // A dry run keeps nothing, so the user's storage quota is not asked.
        let slot = try await api.admitUpload(request, caller: caller, kept: dryRunQuery != "true")
        defer { slot.release() }
        let contentType = request.headers[.contentType]
        let boundary = contentType.flatMap(MultipartParser.boundary(fromContentType:))
        let rawFormat = UploadReceiver.format(contentType: contentType)
        guard boundary != nil || rawFormat != nil else {
            throw APIError(
                .unsupportedMediaType, code: "unsupported_media_type",
                "unsupported content type '\(contentType ?? "none")': send multipart/form-data, text/csv, application/json, application/x-ndjson or text/plain"
            )
        }
        _ = try Idempotency.key(of: request)
        let jobID = Job.makeID()
        return try await api.inFolder(jobID) { folder in
            let receiver = UploadReceiver(directory: folder, limit: api.configuration.maxUploadBytes)
            let upload: ReceivedUpload
            let spec: JobSpec
            var dryRun = try Self.flag(dryRunQuery)
            let query = request.uri.queryParameters.map { (name: String($0.key), value: String($0.value)) }
            if let boundary {
                upload = try await receiver.receiveMultipart(request.body, boundary: boundary)
                // The form's fields, and the query's where the form has none of that name
                // (`curl -F file=@x.csv '…/v1/jobs?preset=…'` means what it says).
                let formNames = Set(upload.fields.map(\.name))
                let fromQuery = query.filter { !formNames.contains($0.name) && !["dry_run", "filename"].contains($0.name) }
                spec = try api.resolve(SpecFields.json(from: fromQuery + upload.fields, ignoring: ["dry_run"]))
                dryRun = try dryRun || Self.flag(upload.fields.last { $0.name == "dry_run" }?.value)
            } else {
                // The spec is in the query: check it before reading a byte of the body.
                spec = try api.resolve(SpecFields.json(from: query, ignoring: ["filename", "dry_run"]))
                let filename = request.uri.queryParameters["filename"].map(String.init) ?? "upload.\(rawFormat?.rawValue ?? "txt")"
                upload = try await receiver.receiveRaw(request.body, filename: filename, contentType: contentType)
            }
            if dryRun {
                // Nothing kept: the folder goes here, or (on an error) as any failed upload's does.
                let answer = try await estimate(upload: upload, spec: spec, rawFormat: rawFormat, caller: caller)
                await api.discard(jobID)
                return answer
            }
            // The spec is part of the request too: the query's, or the form's fields.
            let fingerprint = Idempotency.digest((request.uri.query ?? "") + "\n" + upload.fingerprint)
            return try await Idempotency.once(
                request, caller: caller, route: "POST /v1/jobs", fingerprint: fingerprint, store: api.idempotency, clock: api.clock,
                discard: { await api.discard(jobID) }
            ) {
                let job = try await api.createJob(
                    try api.order(id: jobID, upload: upload, spec: spec, rawFormat: rawFormat), caller: caller)
                context.logger.info(
                    "job created",
                    metadata: ["job": .string(job.id), "bytes": .stringConvertible(upload.files.reduce(0) { $0 + $1.bytes })])
                return Idempotency.Answer(
                    body: Representation.job(job, now: api.clock.now()), status: .accepted, location: "/v1/jobs/\(job.id)")
            }
        }
    }

    /// `true`, `false` or absent; anything else is a `400`.
    static func flag(_ value: String?) throws(APIError) -> Bool {
        switch value {
        case nil, "false"?, ""?: false
        case "true"?: true
        case let other?: throw APIError.badRequest("dry_run must be true or false, not '\(other)'", param: "dry_run")
        }
    }

    /// A dry run's answer: the estimate of the job the upload and spec would make.
    func estimate(upload: ReceivedUpload, spec: JobSpec, rawFormat: InputFormat?, caller: Principal) async throws -> Response {
        let sources = try upload.files.map { file in
            (
                file.path,
                JobSource(path: file.path, displayName: file.filename, format: try api.format(of: file, spec: spec, rawFormat: rawFormat))
            )
        }
        let entry = api.providers[spec.provider]
        let estimate = try await JobEstimate.make(
            spec: spec, sources: sources, provider: entry?.provider, limits: entry?.limits ?? RateLimits(),
            prices: api.resolver.configuration.prices, concurrency: EngineConfiguration.defaultConcurrency, owner: caller.user)
        if let problem = estimate.problem {
            throw APIError(.badRequest, code: "invalid_input", "the job would fail: \(problem.description)")
        }
        return Response.json(estimate.json)
    }

    func get(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let job = try await api.ownedJob(try context.parameters.require("id"), by: try context.caller())
        return Response.json(Representation.job(job, now: api.clock.now()))
    }

    /// `GET /v1/jobs`: the caller's jobs (everyone's for an admin), newest first.
    func list(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let caller = try context.caller()
        let limit = try SluiceAPI.limit(request)
        var status: JobStatus?
        if let text = request.uri.queryParameters["status"] {
            guard let parsed = JobStatus(rawValue: String(text)) else {
                throw APIError.badRequest(
                    "unknown status '\(text)' (one of \(JobStatus.allCases.map(\.rawValue).joined(separator: ", ")))", param: "status")
            }
            status = parsed
        }
        let page = try await api.store.jobs(
            JobQuery(
                owner: caller.isAdmin ? nil : caller.user, status: status, kind: .any,
                after: request.uri.queryParameters["after"].map(String.init), limit: limit + 1))
        let now = api.clock.now()
        return Response.json(Representation.page(page, limit: limit, id: \.id) { Representation.job($0, now: now) })
    }

    /// `GET /v1/jobs/{id}/items`: a page of items in input order, `after` an index.
    func items(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let job = try await api.ownedJob(try context.parameters.require("id"), by: try context.caller())
        let limit = try SluiceAPI.limit(request, fallback: 100)
        var status: ItemStatus?
        if let text = request.uri.queryParameters["status"] {
            guard let parsed = ItemStatus(rawValue: String(text)) else {
                throw APIError.badRequest(
                    "unknown item status '\(text)' (one of \(ItemStatus.allCases.map(\.rawValue).joined(separator: ", ")))", param: "status"
                )
            }
            status = parsed
        }
        var after = -1
        if let text = request.uri.queryParameters["after"] {
            guard let index = Int(text), index >= -1 else { throw APIError.badRequest("after must be an item index", param: "after") }
            after = index
        }
        let page = try await api.store.items(jobID: job.id, status: status, afterIndex: after, limit: limit + 1)
        let shown = page.prefix(limit)
        return Response.json([
            "object": "list", "data": .array(shown.map(Representation.item)), "has_more": .bool(page.count > limit),
            "next_after": page.count > limit ? shown.last.map { .int($0.index) } ?? .null : .null,
        ])
    }

    /// `GET /v1/jobs/{id}/results`: every item so far as CSV or JSONL, streamed page by page,
    /// or as an Excel workbook (written to a temporary file first, then streamed and removed).
    func results(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let job = try await api.ownedJob(try context.parameters.require("id"), by: try context.caller())
        let name = request.uri.queryParameters["format"].map(String.init) ?? "jsonl"
        guard let format = ResultFormat(rawValue: name) else {
            throw APIError.badRequest("format must be csv, jsonl or xlsx", param: "format")
        }
        // `raw=true`: text cells as they are, even those a spreadsheet would run as formulas.
        let raw: Bool
        switch request.uri.queryParameters["raw"].map(String.init) {
        case nil, "false"?: raw = false
        case "true"?: raw = true
        default: throw APIError.badRequest("raw must be true or false", param: "raw")
        }
        let exporter = ResultExporter(store: api.store)
        // Asked once before the status line goes out: a store failing now is a 503 with a body,
        // not a 200 cut off mid-stream (a failure after that can only end the stream early).
        _ = try await api.store.items(jobID: job.id, status: nil, afterIndex: -1, limit: 1)
        let contentType =
            switch format {
            case .csv: "text/csv; charset=utf-8"
            case .jsonl: "application/x-ndjson"
            case .xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        let headers: HTTPFields = [
            .contentType: contentType, .contentDisposition: "attachment; filename=\"\(job.id).\(format.rawValue)\"",
        ]
        if format == .xlsx {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-\(job.id)-\(UUID().uuidString).xlsx")
            do {
                try await exporter.exportWorkbook(jobID: job.id, to: file, raw: raw, owner: job.owner)
            } catch {
                try? FileManager.default.removeItem(at: file)
                throw error
            }
            return Response(
                status: .ok, headers: headers,
                body: ResponseBody { writer in
                    // Read on NIO's file system thread pool, not the cooperative pool.
                    let path = FilePath(file.path)
                    do {
                        try await RequestFiles.fileSystem.withFileHandle(forReadingAt: path) { handle in
                            for try await chunk in handle.readChunks(chunkLength: .kibibytes(256)) { try await writer.write(chunk) }
                        }
                    } catch {
                        _ = try? await RequestFiles.fileSystem.removeItem(at: path)
                        throw error
                    }
                    _ = try? await RequestFiles.fileSystem.removeItem(at: path)
                    try await writer.finish(nil)
                })
        }
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                try await exporter.export(jobID: job.id, format: format, raw: raw) { chunk in
                    try await writer.write(ByteBuffer(string: chunk))
                }
                try await writer.finish(nil)
            })
    }

    /// `GET /v1/jobs/{id}/events`: Server-Sent Events — a `progress` snapshot whenever the job
    /// changes, a `status` event when its status does, and the stream ends after a final status.
    ///
    /// A key holds at most ``ServerConfiguration/maxEventStreamsPerKey`` streams (each reads the
    /// database every interval), and a stream ends once its key is revoked or its sign-in ends:
    /// it re-checks what the request presented about every 5 s.
    func events(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let caller = try context.caller()
        let first = try await api.ownedJob(try context.parameters.require("id"), by: caller)
        let slot = try api.streamSlots.take(for: caller.keyID)
        let store = api.store
        let interval = api.configuration.eventInterval
        let authRequired = api.configuration.auth == .required
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                defer { slot.release() }
                var sinceCheck = 0.0
                var last: Job?
                var quiet = 0.0
                var current: Job? = first
                while let job = current {
                    if job.status != last?.status {
                        try await writer.write(
                            Self.event(
                                "status",
                                [
                                    "id": .string(job.id), "status": .string(job.status.rawValue),
                                    "status_reason": job.statusReason.map(JSONValue.string) ?? .null,
                                ]))
                    }
                    if job != last {
                        try await writer.write(Self.event("progress", Representation.job(job, now: api.clock.now())))
                        quiet = 0
                    } else if quiet >= 15 {
                        // A comment keeps proxies from closing a quiet stream.
                        try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                        quiet = 0
                    }
                    if job.status.isFinal { break }
                    last = job
                    try await Task.sleep(for: .seconds(interval))
                    quiet += interval
                    sinceCheck += interval
                    if authRequired, sinceCheck >= 5 {
                        sinceCheck = 0
                        guard await AuthMiddleware.stillHolds(request, keys: api.keys, clock: api.clock) else { break }
                    }
                    do {
                        current = try await store.job(id: job.id)
                    } catch let error as StoreError {
                        // The database failing for a while does not end the stream (nor say why
                        // to the client): the last snapshot stands until it answers again.
                        context.logger.warning("events: reading the job failed", metadata: ["job": "\(job.id)", "error": "\(error)"])
                        current = job
                        continue
                    }
                    if current == nil {
                        try await writer.write(Self.event("deleted", ["id": .string(job.id)]))
                    }
                }
                try await writer.finish(nil)
            })
    }

    static func event(_ name: String, _ data: JSONValue) -> ByteBuffer {
        ByteBuffer(string: "event: \(name)\ndata: \(JSONWriter.string(data))\n\n")
    }

    /// cancel, pause, resume, retry: the job as it is afterwards, or `409` when its status forbids it.
    func control(
        _ request: Request, _ context: SluiceRequestContext, _ operation: @escaping @Sendable (String, Date) async throws -> Job
    ) async throws -> Response {
        let job = try await api.ownedJob(try context.parameters.require("id"), by: try context.caller())
        // A status that does not allow it is `409` (``APIError/init(store:)``).
        let updated = try await operation(job.id, api.clock.now())
        return Response.json(Representation.job(updated, now: api.clock.now()))
    }

    /// `GET /v1/jobs/{id}/result`: the one combined result of a job with a reduce step (a
    /// course from documents), once its last round has it; `409` until then.
    func result(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let job = try await api.ownedJob(try context.parameters.require("id"), by: try context.caller())
        guard job.spec.reduce != nil else {
            throw APIError.conflict("job \(job.id) has no reduce step: its results are at /v1/jobs/\(job.id)/results")
        }
        guard let result = try await api.store.result(jobID: job.id) else {
            let why =
                job.status.isFinal
                ? "it ended \(job.status.rawValue) without one (see its errors)"
                : "it is still \(job.stage?.rawValue ?? job.status.rawValue)"
            throw APIError.conflict("job \(job.id) has no combined result: \(why)")
        }
        return Response.json(result)
    }

    /// `POST /v1/jobs/{id}/resume`, optionally with `{"budget": {...}}` and `"max_reply_tokens"`:
    /// a new cap replaces the job's (a job paused by its budget, or by replies cut empty at its
    /// reply-token cap, needs a higher one, or pauses again).
    func resume(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let buffer = try await request.body.collect(upTo: 64 << 10)
        var budget: Budget?
        var maxReplyTokens: Int?
        if buffer.readableBytes > 0 {
            let body: JSONValue
            do {
                body = try JSONParser.parse(buffer.readableBytesView)
            } catch {
                throw APIError.badRequest("the body is not valid JSON: line \(error.line), column \(error.column): \(error.message)")
            }
            guard case .object(let fields) = body, fields.keys.allSatisfy({ $0 == "budget" || $0 == "max_reply_tokens" }) else {
                throw APIError.badRequest(
                    "the body may only be {\"budget\": {\"tokens\": N, \"cost_usd\": N}, \"max_reply_tokens\": N}", param: "budget")
            }
            if let raw = fields["max_reply_tokens"], raw != .null {
                guard let cap = raw.intValue, (1...1_000_000).contains(cap) else {
                    throw APIError.badRequest("max_reply_tokens must be an integer from 1 to 1000000", param: "max_reply_tokens")
                }
                maxReplyTokens = cap
            }
            do {
                budget = try Budget.parse(fields["budget"] ?? .null)
            } catch {
                throw APIError.badRequest("\(error.field): \(error.message)", param: "budget")
            }
        }
        return try await control(request, context) { [api, budget, maxReplyTokens] id, now in
            if budget?.costUSD != nil, let job = try await api.store.job(id: id),
                api.resolver.configuration.prices.price(forModel: job.spec.model) == nil
            {
                throw APIError.badRequest("no price is configured for model '\(job.spec.model)'; cap tokens instead", param: "budget")
            }
            return try await api.store.resume(jobID: id, budget: budget, maxReplyTokens: maxReplyTokens, now: now)
        }
    }

    /// `POST /v1/jobs/{id}/priority` with `{"priority": "high" | "normal" | "low"}`: an admin
    /// moves a job ahead of (or behind) its owner's others, while it runs; `403` for anyone else.
    func setPriority(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let caller = try context.caller()
        let job = try await api.ownedJob(try context.parameters.require("id"), by: caller)
        guard caller.isAdmin else { throw APIError(.forbidden, code: "forbidden", "only an admin changes a job's priority") }
        let buffer = try await request.body.collect(upTo: 4 << 10)
        guard case .object(let fields)? = try? JSONParser.parse(buffer.readableBytesView), fields.keys.allSatisfy({ $0 == "priority" }),
            let name = fields["priority"]?.stringValue, let priority = JobPriority(rawValue: name)
        else {
            throw APIError.badRequest("the body must be {\"priority\": \"high\" | \"normal\" | \"low\"}", param: "priority")
        }
        let updated = try await api.store.setPriority(jobID: job.id, priority: priority)
        return Response.json(Representation.job(updated, now: api.clock.now()))
    }

    /// `DELETE /v1/jobs/{id}`: removes the job, its items and its upload in one step. A running
    /// job stops too: workers start no call for a job they cannot find, and the results of
    /// calls in flight are dropped with their leases.
    func delete(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let job = try await api.ownedJob(try context.parameters.require("id"), by: try context.caller())
        try await api.store.deleteJob(jobID: job.id)
        await api.discard(job.id)
        return Response.json(["id": .string(job.id), "object": "job", "deleted": true])
    }
}
