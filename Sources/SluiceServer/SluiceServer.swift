import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import Prometheus
import ServiceLifecycle
import SluiceCore
import SluiceEngine
import SluicePresets
import SluiceStorage
import SluiceStore

/// Builds the HTTP application: middlewares in order (request id, errors, CORS, same origin,
/// auth, rate limit), the native, Batch and operations routes, the web page, and the background services it runs with.
public enum SluiceServer {
    /// - Parameters:
    ///   - services: Run alongside the server and shut down with it (the worker and reaper,
    ///     unless the API runs alone).
    ///   - onRunning: Hears the port actually bound (useful with port 0).
    ///   - storage: Where uploads are kept (default: the configuration's upload folder on disk).
    ///   - metrics: What `/metrics` shows; without it `/metrics` answers 404.
    ///   - clock: What the server's own services (ingest, webhooks, housekeeping) measure leases
    ///     and expiry by: `sluice serve` gives the database's (``DatabaseClock``).
    public static func application(
        configuration: ServerConfiguration, store: any JobStore, resolver: SpecResolver, storage: (any FileStorage)? = nil,
        services: [any Service] = [], clock: any SluiceClock = SystemClock(), logger: Logger, metrics: ServerMetrics? = nil,
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        try configuration.validate()
        let storage = try storage ?? LocalFileStorage(directory: configuration.uploadDirectory)
        try FileManager.default.createDirectory(atPath: storage.spoolDirectory + "/files", withIntermediateDirectories: true)
        let engineMetrics = metrics.map { EngineMetrics(factory: PrometheusMetricsFactory(registry: $0.registry)) } ?? .none
        let ingest = IngestService(
            store: store, owner: EngineConfiguration.defaultWorkerID(), storage: storage, clock: clock, logger: logger,
            metrics: engineMetrics)
        let api = SluiceAPI(
            store: store, resolver: resolver, configuration: configuration, ingest: ingest, storage: storage,
            uploads: KeySlots(perKey: configuration.maxUploadsPerKey, what: "uploads", code: "too_many_uploads"),
            streams: KeySlots(perKey: configuration.maxEventStreamsPerKey, what: "event streams", code: "too_many_streams"),
            webhooks: resolver.configuration.webhooks)
        let housekeeping: [any Service] = [
            WebhookDispatcher(
                store: store, settings: resolver.configuration.webhooks, owner: EngineConfiguration.defaultWorkerID(), logger: logger,
                metrics: engineMetrics, clock: clock),
            Housekeeper(
                store: store, storage: storage, logger: logger, metrics: engineMetrics,
                cacheMaxAge: resolver.configuration.cache.maxAgeSeconds, clock: clock),
        ]

        let router = Router(context: SluiceRequestContext.self)
        router.middlewares.add(RequestIDMiddleware())
        let paths = RoutePaths()
        router.middlewares.add(ErrorMiddleware(paths: paths))
        if configuration.auth == .off { router.middlewares.add(LoopbackHostMiddleware(configuration: configuration)) }
        if !configuration.corsOrigins.isEmpty { router.middlewares.add(CORSMiddleware(origins: Set(configuration.corsOrigins))) }
        router.middlewares.add(MetricsMiddleware())
        router.middlewares.add(SameOriginMiddleware(allowedOrigins: Set(configuration.corsOrigins)))
        router.middlewares.add(AuthMiddleware(mode: configuration.auth, store: store))
        if let rate = configuration.requestsPerMinute {
            router.middlewares.add(RateLimitMiddleware(limiter: RequestRateLimiter(perMinute: rate, burst: configuration.requestBurst)))
        }

        // Middlewares wrap only the routes added after them, so the routes come last.
        let routes = RouteTable(router: router, paths: paths)
        JobRoutes(api: api).add(to: routes)
        BatchRoutes(api: api).add(to: routes)
        UploadRoutes(api: api).add(to: routes)
        WebhookRoutes(api: api).add(to: routes)
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
            services: [ingest] + housekeeping + services,
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
