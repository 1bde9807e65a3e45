import Foundation
public import Hummingbird
import HummingbirdCore
import HummingbirdTLS
public import Logging
import NIOCore
import NIOSSL
public import SluiceCore
public import SluicePresets
public import SluiceProviders
public import SluiceStorage
public import SluiceStore

/// Builds the HTTP application: middlewares in order (request id, errors, CORS, same origin,
/// auth, rate limit), then the native, Batch, operations and web routes. It runs no background
/// loop of its own: which loops run beside it is the process's role's choice (the composer's).
public enum SluiceServer {
    /// - Parameters:
    ///   - storage: Where uploads are kept once received: this machine's disk, or a bucket.
    ///   - jobCreated: Told after each job created (the composer wakes its ingest loop with it,
    ///     when this process reads uploads).
    ///   - clock: What the routes date records by: `sluice serve` gives the database's.
    ///   - metrics: What `/metrics` shows; without it `/metrics` answers 404.
    ///   - onRunning: Hears the port actually bound (useful with port 0).
    public static func application(
        configuration: ServerConfiguration, stores: Stores, resolver: SpecResolver, storage: any FileStorage,
        jobCreated: @escaping @Sendable () -> Void = {}, clock: any SluiceClock = SystemClock(), logger: Logger,
        metrics: ServerMetrics? = nil, providers: ProviderRegistry = ProviderRegistry([]),
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        try configuration.validate()
        try FileManager.default.createDirectory(atPath: storage.spoolDirectory + "/files", withIntermediateDirectories: true)
        let api = SluiceAPI(
            store: stores.queue, files: stores.files, keys: stores.keys, webhooks: stores.webhooks, uploads: stores.uploads,
            idempotency: stores.idempotency, usage: stores.usage, readings: stores.readings, resolver: resolver,
            configuration: configuration, jobCreated: jobCreated,
            clock: clock,
            storage: storage, providers: providers,
            uploadSlots: KeySlots(perKey: configuration.maxUploadsPerKey, what: "uploads", code: "too_many_uploads"),
            streamSlots: KeySlots(perKey: configuration.maxEventStreamsPerKey, what: "event streams", code: "too_many_streams"),
            webhookSettings: resolver.configuration.webhooks)

        let router = Router(context: SluiceRequestContext.self)
        // A span per request, continuing the caller's trace (`traceparent`); the job keeps it.
        router.middlewares.add(TracingMiddleware())
        router.middlewares.add(RequestIDMiddleware())
        let paths = RoutePaths()
        router.middlewares.add(ErrorMiddleware(paths: paths))
        if configuration.auth == .off { router.middlewares.add(LoopbackHostMiddleware(configuration: configuration)) }
        if !configuration.corsOrigins.isEmpty { router.middlewares.add(CORSMiddleware(origins: Set(configuration.corsOrigins))) }
        router.middlewares.add(MetricsMiddleware())
        router.middlewares.add(SameOriginMiddleware(allowedOrigins: Set(configuration.corsOrigins)))
        router.middlewares.add(AuthMiddleware(mode: configuration.auth, keys: stores.keys, clock: clock))
        if let rate = configuration.requestsPerMinute {
            router.middlewares.add(
                RateLimitMiddleware(limiter: RequestRateLimiter(perMinute: rate, burst: configuration.requestBurst), clock: clock))
        }

        // Middlewares wrap only the routes added after them, so the routes come last.
        let routes = RouteTable(router: router, paths: paths)
        JobRoutes(api: api).add(to: routes)
        BatchRoutes(api: api).add(to: routes)
        UploadRoutes(api: api).add(to: routes)
        WebhookRoutes(api: api).add(to: routes)
        UsageRoutes(api: api).add(to: routes)
        MessageBatchRoutes(api: api).add(to: routes)
        OperationsRoutes(api: api, metrics: metrics).add(to: routes)
        WebRoutes(api: api, assets: try WebAssets.load()).add(to: routes)

        let maxBody = configuration.maxUploadBytes
        let connections = ConnectionCounts(
            perAddress: configuration.maxConnectionsPerAddress, total: configuration.maxConnections)
        let headTimeout = TimeAmount.nanoseconds(Int64(configuration.headTimeoutSeconds * 1e9))
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [
                ConnectionGuard(counts: connections, minimumBytesPerSecond: configuration.minimumBodyBytesPerSecond),
                RequestHeadGuard(headTimeout: headTimeout), ExpectContinueHandler(maxBodyBytes: maxBody),
            ],
            idleTimeout: .nanoseconds(Int64(configuration.idleTimeoutSeconds * 1e9)),
            httpDecoderConfiguration: .init(
                maxHeaderFieldSize: ServerConfiguration.maxHeaderFieldBytes, maxHeaderListSize: ServerConfiguration.maxHeaderBytes,
                maxHeaderFieldCount: ServerConfiguration.maxHeaderFieldCount))
        return Application(
            router: router,
            server: try configuration.tls.map { try .tls(.http1(configuration: http1), tlsConfiguration: try Self.serving($0)) }
                ?? .http1(configuration: http1),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "sluice"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? configuration.port) },
            logger: logger)
    }

    /// The TLS settings to serve with, or a configuration error saying which file is wrong.
    static func serving(_ files: TLSFiles) throws(ServerConfigurationError) -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(files.certificateChain)
        } catch {
            throw ServerConfigurationError(message: "cannot read the TLS certificate \(files.certificateChain) as PEM: \(error)")
        }
        guard !chain.isEmpty else { throw ServerConfigurationError(message: "\(files.certificateChain) holds no PEM certificate") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: files.privateKey, format: .pem)
        } catch {
            throw ServerConfigurationError(message: "cannot read the TLS private key \(files.privateKey) as PEM: \(error)")
        }
        return TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
    }
}
