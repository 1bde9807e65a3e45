import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Prometheus
import ServiceLifecycle
import SluiceComposer
import SluiceCore
import SluiceEngine
import SluicePresets
import SluiceProviders
import SluiceServer
import SluiceStorage
import SluiceStore
import SluiceTestSupport

/// A real server on a free loopback port over a real database (``StoreDriver/current``), with
/// workers, and an HTTP client to call it: what every HTTP test runs against.
struct ServerHarness: Sendable {
    let baseURL: String
    let fixture: StoreFixture
    var store: SQLJobStore { fixture.store }
    var directory: TemporaryDirectory { fixture.directory }
    let http: HTTPClient
    /// A client that, like a browser's form posts under test, shows redirects instead of following them.
    let pages: HTTPClient

    struct Reply: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: JSONValue { (try? JSONParser.parse(body)) ?? .null }
        var errorCode: String? { json["error"]?["code"]?.stringValue }
    }

    /// Runs `body` against a fresh server and stops everything afterwards, whatever happens.
    static func with<T: Sendable>(
        auth: AuthMode = .off, maxUploadBytes: Int = 64 << 20, requestsPerMinute: Double? = nil, corsOrigins: [String] = [],
        providers: [any ModelProvider] = [], workers: Bool = true, storage: ((TemporaryDirectory) throws -> any FileStorage)? = nil,
        limits: (idle: Double, head: Double, uploadsPerKey: Int) = (60, 10, 4), webhooks: WebhookSettings = WebhookSettings(),
        maxUploadPartBytes: Int = 64 << 20, adjust: (inout ServerConfiguration) -> Void = { _ in },
        settings given: [ProviderSettings]? = nil, engine: EngineConfiguration = EngineConfiguration(concurrency: 8, idleInterval: 0.1),
        routes: [ModelRoute] = [], prices: ModelPrices = ModelPrices(),
        _ body: @Sendable (ServerHarness) async throws -> T
    ) async throws -> T {
        let fixture = try await StoreDriver.current.makeStore()
        let (store, directory) = (fixture.store, fixture.directory)
        var configuration = ServerConfiguration(
            host: "127.0.0.1", port: 0, auth: auth, uploadDirectory: directory.path("uploads"), maxUploadBytes: maxUploadBytes,
            requestsPerMinute: requestsPerMinute, requestBurst: 5, corsOrigins: corsOrigins, eventInterval: 0.02,
            idleTimeoutSeconds: limits.idle, headTimeoutSeconds: limits.head, maxUploadsPerKey: limits.uploadsPerKey)
        configuration.maxUploadPartBytes = maxUploadPartBytes
        adjust(&configuration)
        let settings = given ?? providers.map { ProviderSettings(name: $0.name, kind: .builtin) }
        let configured = SluiceConfiguration(providers: settings, routes: routes, webhooks: webhooks)
        let resolver = SpecResolver(catalog: try PresetCatalog.shipped(), configuration: configured)
        let logger = {
            var logger = Logger(label: "test")
            logger.logLevel = ProcessInfo.processInfo.environment["SLUICE_TEST_LOG"] != nil ? .info : .critical
            return logger
        }()
        // A registry of this server's own: no process-wide backend, so tests do not share counts.
        let registry = PrometheusCollectorRegistry()
        let providerRegistry = ProviderRegistry(
            entries: ([BuiltinProvider()] + providers).map { ProviderEntry($0) }, routes: routes,
            defaultProvider: ProviderSettings.builtinName, prices: prices)
        let uploads = try storage?(directory) ?? LocalFileStorage(directory: configuration.uploadDirectory)
        // Without workers, the process still reads uploads and keeps up webhooks and expiry, so
        // tests see jobs queued with nothing taking them: a composition only tests ask for.
        let composer = Composer(
            role: workers ? .serve : [.frontDoor, .ingest, .upkeep], store: store, configuration: configured, storage: uploads,
            // Woken by the store's commits; the poll is for what none announces.
            engine: engine, logger: logger,
            metrics: EngineMetrics(factory: PrometheusMetricsFactory(registry: registry)), providers: { _ in providerRegistry })
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let frozen = configuration
        let server = Task {
            // A server that fails to start ends the wait for its port with its error.
            defer { portContinuation.finish() }
            try await composer.run(
                frontDoor: { clock, jobCreated, providers in
                    try SluiceServer.application(
                        configuration: frozen, stores: store.stores, resolver: resolver, storage: uploads, jobCreated: jobCreated,
                        clock: clock,
                        logger: logger, metrics: ServerMetrics(registry: registry), providers: providers,
                        onRunning: { portContinuation.yield($0) })
                }, signals: [])
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else {
            try await server.value
            throw CancellationError()
        }
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let pages = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        let harness = ServerHarness(baseURL: "http://127.0.0.1:\(port)", fixture: fixture, http: http, pages: pages)
        do {
            let result = try await body(harness)
            try await pages.shutdown()
            try await http.shutdown()
            server.cancel()
            _ = await server.result
            return result
        } catch {
            try? await pages.shutdown()
            try? await http.shutdown()
            server.cancel()
            _ = await server.result
            throw error
        }
    }

    func call(
        _ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], key: String? = nil, body: HTTPClientRequest.Body? = nil,
        followRedirects: Bool = true
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        if let body { request.body = body }
        let response = try await (followRedirects ? http : pages).execute(request, timeout: .seconds(60))
        let collected = try await response.body.collect(upTo: 64 << 20)
        return Reply(status: Int(response.status.code), headers: response.headers, body: Array(collected.readableBytesView))
    }

    func get(_ path: String, key: String? = nil) async throws -> Reply { try await call(.GET, path, key: key) }
    func post(_ path: String, key: String? = nil) async throws -> Reply { try await call(.POST, path, key: key) }

    /// `POST /v1/jobs` with a raw body and the spec in the query.
    func submit(_ contents: String, contentType: String = "text/csv", query: String = "preset=text-classify", key: String? = nil)
        async throws -> Reply
    {
        try await call(
            .POST, "/v1/jobs?" + query, headers: [("Content-Type", contentType)], key: key, body: .bytes(ByteBuffer(string: contents)))
    }

    /// `POST /v1/jobs` with a binary body (a zip, a workbook).
    func submit(bytes: [UInt8], contentType: String, query: String) async throws -> Reply {
        try await call(
            .POST, "/v1/jobs?" + query, headers: [("Content-Type", contentType)], key: nil, body: .bytes(ByteBuffer(bytes: bytes)))
    }

    /// `POST /v1/jobs` as `multipart/form-data`.
    func submitForm(
        fields: [(String, String)], files: [(name: String, contents: String)], query: String? = nil, key: String? = nil
    ) async throws -> Reply {
        let boundary = "sluice-test-boundary"
        var text = ""
        for (name, value) in fields {
            text += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n"
        }
        for file in files {
            text += "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(file.name)\"\r\n\r\n\(file.contents)\r\n"
        }
        text += "--\(boundary)--\r\n"
        return try await call(
            .POST, "/v1/jobs" + (query.map { "?" + $0 } ?? ""), headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)")],
            key: key, body: .bytes(ByteBuffer(string: text)))
    }

    /// `POST /v1/files` with a batch input of `lines` chat requests (`custom_id` q0, q1, …).
    func uploadBatchFile(lines: Int) async throws -> Reply {
        let text =
            (0..<lines).map { n in
                #"{"custom_id": "q\#(n)", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Is this good? \#(n)"}]}}"#
            }.joined(separator: "\n") + "\n"
        let boundary = "b0undary"
        let form =
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"
            + "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\n\r\n\(text)\r\n--\(boundary)--\r\n"
        return try await call(
            .POST, "/v1/files", headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)")],
            body: .bytes(ByteBuffer(string: form)))
    }

    /// `POST /v1/batches` for an uploaded file; `body` replaces the whole request when given.
    func createBatch(fileID: String, body: String? = nil) async throws -> Reply {
        let json = body ?? #"{"input_file_id": "\#(fileID)", "endpoint": "/v1/chat/completions", "completion_window": "24h"}"#
        return try await call(.POST, "/v1/batches", headers: [("Content-Type", "application/json")], body: .bytes(ByteBuffer(string: json)))
    }

    /// Reads `GET /v1/jobs/{id}` until `condition` holds, again after each change the server's
    /// store commits (see ``waitForChange(of:what:_:)``).
    func waitFor(_ id: String, key: String? = nil, until condition: (JSONValue) -> Bool) async throws -> JSONValue {
        try await waitForChange(of: store, what: "job \(id) to reach the expected state") {
            let job = try await get("/v1/jobs/\(id)", key: key).json
            return condition(job) ? job : JSONValue?.none
        }
    }

    static func isFinal(_ job: JSONValue) -> Bool {
        job["status"]?.stringValue.flatMap(JobStatus.init(rawValue:))?.isFinal ?? false
    }
}

/// A CSV of `count` short reviews.
func reviewsCSV(_ count: Int) -> String {
    "id,text\n" + (0..<count).map { "\($0),review \($0) was great\n" }.joined()
}
