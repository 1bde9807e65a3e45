import Foundation
import Hummingbird
import NIOCore
import SluiceCore
import SluiceEngine
import SluicePresets
import SluiceProviders
import SluiceStorage
import SluiceStore

/// What every route shares: the store, how specs resolve, where uploads go, the clock, and
/// the signal that a job was created (which wakes this process's ingest, if it has one).
struct SluiceAPI: Sendable {
    /// The queue: jobs, their items and their control.
    let store: any JobStore
    let files: any FileStore
    let keys: any KeyStore
    let webhooks: any WebhookStore
    let uploads: any UploadStore
    let idempotency: any IdempotencyStore
    /// The usage ledger: who spent what.
    let usage: any UsageStore
    /// What the workers' gates know of each provider key's limits.
    let readings: any ProviderReadingStore
    let resolver: SpecResolver
    let configuration: ServerConfiguration
    /// Told after every job created: the composer wires it to an ingest loop in the same process.
    let jobCreated: @Sendable () -> Void
    let clock: any SluiceClock
    /// Where uploads are kept once received: this machine's disk, or a bucket.
    let storage: any FileStorage
    /// The providers an estimate's sample calls go through.
    let providers: ProviderRegistry
    let uploadSlots: KeySlots
    let streamSlots: KeySlots
    /// Which webhook targets may be registered.
    let webhookSettings: WebhookSettings

    /// A job the caller may see; anyone else's is `404`, exactly like a missing one.
    func ownedJob(_ id: String, by caller: Principal) async throws -> Job {
        guard let job = try await store.job(id: id), caller.owns(job.owner) else { throw APIError.notFound("job \(id)") }
        return job
    }

    /// A spec from its JSON form, or `400 invalid_spec` saying what is wrong with it.
    func resolve(_ json: JSONValue) throws -> JobSpec {
        do {
            return try resolver.resolve(json)
        } catch {
            throw APIError(.badRequest, code: "invalid_spec", "invalid spec: \(error)", param: error.field)
        }
    }

    /// The one way a job is created: checks the caller has room for its inputs, keeps them
    /// under the job's folder, creates the job in `validating` and says so (``jobCreated``).
    /// Run inside ``inFolder(_:_:)`` named by the job's id, so a refusal leaves nothing kept.
    func createJob(_ order: JobOrder, caller: Principal) async throws -> Job {
        let bytes = order.inputs.reduce(0) { $0 + $1.bytes }
        try await ensureRoom(for: caller, bytes: bytes)
        var sources: [JobSource] = []
        for input in order.inputs {
            switch input {
            case .received(let file, let format):
                sources.append(JobSource(path: try await keep(file, in: order.id), displayName: file.filename, format: format))
            case .copy(let path, let name, let displayName, _, let format):
                sources.append(
                    JobSource(path: try await storage.copy(path, to: order.id + "/" + name), displayName: displayName, format: format))
            }
        }
        let now = clock.now()
        let job = try await store.createJob(
            NewJob(
                id: order.id, owner: caller.user, name: order.name, spec: order.spec, sources: sources, batch: order.batch,
                expiresAt: order.expiresIn.map { now.addingTimeInterval($0) }, inputBytes: bytes,
                keyID: caller == .local ? nil : caller.keyID, traceContext: TraceContext.forNewJob()),
            now: now)
        jobCreated()
        return job
    }

    /// The native API's and the web page's order: every received file, in the format the spec,
    /// its name or its content type gives (`rawFormat`: a raw body's content type's).
    func order(id: String, upload: ReceivedUpload, spec: JobSpec, rawFormat: InputFormat?) throws -> JobOrder {
        guard !upload.files.isEmpty else { throw APIError.badRequest("no file: send the input as a 'file' part", param: "file") }
        let inputs = try upload.files.map { JobOrder.Input.received($0, format: try format(of: $0, spec: spec, rawFormat: rawFormat)) }
        return JobOrder(
            id: id, name: spec.name ?? upload.files.map(\.filename).joined(separator: ", "), spec: spec, inputs: inputs)
    }

    /// A received file's format: the spec's, else its name's, else its part's content type's,
    /// else the raw body's; `400` when none tells.
    func format(of file: ReceivedUpload.File, spec: JobSpec, rawFormat: InputFormat? = nil) throws -> InputFormat {
        let named = InputFormat(fileName: file.filename) ?? UploadReceiver.format(contentType: file.contentType)
        guard let format = InputFormat.of(named: named, declared: spec.input.format) ?? rawFormat else {
            throw APIError.badRequest(
                "cannot tell the format of \(file.filename): name it .csv, .json, .jsonl, .txt, .xlsx, .pdf or .zip, or set input.format",
                param: "format")
        }
        return format
    }

    /// Runs `body` with a new spool folder `name` to receive into, and removes the folder (and
    /// anything kept under its name) again if `body` fails: a refused request leaves nothing behind.
    func inFolder<T>(_ name: String, _ body: (String) async throws -> T) async throws -> T {
        let path = storage.spoolDirectory + "/" + name
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        do {
            return try await body(path)
        } catch {
            await discard(name)
            throw error
        }
    }

    /// Keeps a received file under the folder `name`; returns where it now is. A bucket that
    /// cannot be reached is `503 storage_unavailable` (``APIError/answering(_:context:)``).
    func keep(_ file: ReceivedUpload.File, in name: String) async throws -> String {
        try await storage.keep(spooled: file.path, as: name + "/" + (file.path as NSString).lastPathComponent)
    }

    /// Admits an upload before any of its body is read: `413` for a body declared over the
    /// limit or a user with no room left, `429` when the caller's key has its most uploads in
    /// progress. The slot taken must be released when the upload is done with.
    /// `kept`: the upload is kept (a job, a file, a part), so the user's storage quota must have
    /// room for it; a preview is read and thrown away, and needs none.
    func admitUpload(_ request: Request, caller: Principal, kept: Bool = true) async throws -> KeySlot {
        let limit = configuration.maxUploadBytes
        let declared = request.headers[.contentLength].flatMap { Int($0) }
        if let declared, declared > limit { throw APIError.tooLarge(limit: limit) }
        if kept { try await ensureRoom(for: caller, bytes: declared ?? 0) }
        return try uploadSlots.take(for: caller.keyID)
    }

    /// Refuses `bytes` more for `caller` when they would take the user past their storage quota
    /// (``ServerConfiguration/maxStoredBytesPerUser``). Checked before an upload is read (is
    /// there room at all?) and once its size is known, before it is kept. Uploads a key has in
    /// flight at once (at most ``ServerConfiguration/maxUploadsPerKey``) may each pass the check
    /// before the others are counted: the quota can be passed by that much, never more.
    func ensureRoom(for caller: Principal, bytes: Int) async throws {
        let stored = try await store.storedBytes(owner: caller.user)
        let quota = configuration.maxStoredBytesPerUser
        guard stored + bytes <= quota, stored < quota else {
            throw APIError(
                .contentTooLarge, code: "storage_quota_exceeded",
                "this user keeps \(stored) bytes on the server and may keep \(quota); delete jobs or files to make room")
        }
    }

    /// Removes what is kept under the folder `name` (a job's or a file's uploads).
    func discard(_ name: String) async {
        try? await storage.remove(folder: name)
    }

    /// The request's body as a JSON object (at most `limit` bytes), or `400` saying what is wrong.
    func jsonObject(_ request: Request, limit: Int = 1 << 20) async throws -> JSONObject {
        try Self.jsonObject(try await request.body.collect(upTo: limit))
    }

    /// A received body as a JSON object, or `400` saying what is wrong.
    static func jsonObject(_ buffer: ByteBuffer) throws -> JSONObject {
        let body: JSONValue
        do {
            body = try JSONParser.parse(buffer.readableBytesView)
        } catch {
            throw APIError.badRequest("the body is not valid JSON: line \(error.line), column \(error.column): \(error.message)")
        }
        guard case .object(let fields) = body else { throw APIError.badRequest("the body must be a JSON object") }
        return fields
    }

    /// `limit` from the query: 1…`maximum`, `fallback` when absent.
    static func limit(_ request: Request, fallback: Int = 20, maximum: Int = 1_000) throws -> Int {
        guard let text = request.uri.queryParameters["limit"] else { return fallback }
        guard let value = Int(text), (1...maximum).contains(value) else {
            throw APIError.badRequest("limit must be an integer from 1 to \(maximum)", param: "limit")
        }
        return value
    }
}
