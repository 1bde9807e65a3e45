public import Logging
public import ServiceLifecycle
public import SluiceCore
public import SluiceEngine
public import SluiceProviders
public import SluiceStorage
public import SluiceStore
public import UnixSignals

/// Builds a process from its role and runs it as one `ServiceGroup`: the database's clock
/// first, then ingest, upkeep (webhooks, housekeeping), the reaper and the worker, whatever
/// the caller runs alongside, and the front door last — so a graceful shutdown stops taking
/// requests first, lets the calls in flight finish, and keeps the clock to the end.
///
/// The database is opened (and migrated) by the caller before anything here starts: every
/// service assumes the schema is current.
public struct Composer: Sendable {
    /// What the front door is built from: the clock the process measures by, and the signal to
    /// give after each job created.
    /// The HTTP server, given the clock, what to call when a job is created, and the providers
    /// (an estimate's sample calls go through them).
    public typealias FrontDoor =
        @Sendable (
            _ clock: any SluiceClock, _ jobCreated: @escaping @Sendable () -> Void, _ providers: ProviderRegistry
        ) throws -> any Service

    public var role: ProcessRole
    public var store: SQLJobStore
    public var configuration: SluiceConfiguration
    /// Where uploads are kept; needed by the roles that read them (ingest) or remove them (upkeep).
    public var storage: (any FileStorage)?
    public var engine: EngineConfiguration
    public var logger: Logger
    public var metrics: EngineMetrics
    /// The providers the worker calls, given the HTTP client they share (the configuration's
    /// catalog unless a test brings its own).
    public var providers: @Sendable (ProviderHTTPClient) throws -> ProviderRegistry

    public init(
        role: ProcessRole, store: SQLJobStore, configuration: SluiceConfiguration, storage: (any FileStorage)?,
        engine: EngineConfiguration, logger: Logger, metrics: EngineMetrics = .none,
        providers: (@Sendable (ProviderHTTPClient) throws -> ProviderRegistry)? = nil
    ) {
        self.role = role
        self.store = store
        self.configuration = configuration
        self.storage = storage
        self.engine = engine
        self.logger = logger
        self.metrics = metrics
        self.providers = providers ?? { http in try ProviderCatalog.registry(for: configuration, http: http) }
    }

    /// Runs the process until a signal, a cancellation, or a service that ends it.
    /// - Parameters:
    ///   - frontDoor: Builds the HTTP server; required when the role has ``ProcessRole/frontDoor``.
    ///   - alongside: Services of the command's own (`sluice run`'s progress monitor).
    ///   - signals: Signals that shut the process down gracefully.
    public func run(
        alongside: [ServiceGroupConfiguration.ServiceConfiguration] = [], frontDoor: FrontDoor? = nil,
        signals: [UnixSignal] = [.sigterm, .sigint]
    ) async throws {
        let clock = DatabaseClock(store: store, logger: logger)
        try await clock.synchronize()
        let slowest = configuration.providers.map(\.timeoutSeconds).max() ?? 120
        let http = ProviderHTTPClient(readTimeoutSeconds: Int64(slowest.rounded(.up)))
        do {
            let services = try services(clock: clock, http: http, alongside: alongside, frontDoor: frontDoor)
            let group = ServiceGroup(
                configuration: ServiceGroupConfiguration(services: services, gracefulShutdownSignals: signals, logger: logger))
            try await group.run()
            try await http.shutdown()
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    /// The role's services in start order, with `alongside` just before the front door.
    func services(
        clock: DatabaseClock, http: ProviderHTTPClient, alongside: [ServiceGroupConfiguration.ServiceConfiguration],
        frontDoor: FrontDoor?
    ) throws
        -> [ServiceGroupConfiguration.ServiceConfiguration]
    {
        var services: [any Service] = [clock]
        var jobCreated: @Sendable () -> Void = {}
        let registry = try providers(http)
        if role.contains(.ingest) {
            let ingest = IngestService(
                store: store, owner: engine.workerID, storage: try neededStorage(for: "ingest"), clock: clock, logger: logger,
                metrics: metrics)
            jobCreated = { ingest.wake() }
            services.append(ingest)
        }
        if role.contains(.upkeep) {
            services.append(
                WebhookDispatcher(
                    store: store, outbox: store.webhooks, settings: configuration.webhooks, owner: engine.workerID, logger: logger,
                    metrics: metrics, clock: clock))
            services.append(
                Housekeeper(
                    store: store, files: store.files, uploads: store.uploads, idempotency: store.idempotency,
                    storage: try neededStorage(for: "upkeep"), logger: logger, metrics: metrics,
                    cacheMaxAge: configuration.cache.maxAgeSeconds, retention: configuration.retention, clock: clock))
        }
        if role.contains(.workers) {
            services.append(Reaper(store: store, interval: engine.reaperInterval, clock: clock, logger: logger, metrics: metrics))
            services.append(
                Worker(
                    store: store, providers: registry, configuration: engine, clock: clock, logger: logger, metrics: metrics,
                    storage: storage))
        }
        var configured = services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) } + alongside
        if role.contains(.frontDoor) {
            guard let frontDoor else { throw CompositionError(message: "a front door role needs the HTTP server to run") }
            configured.append(.init(service: try frontDoor(clock, jobCreated, registry)))
        }
        return configured
    }

    func neededStorage(for part: String) throws -> any FileStorage {
        guard let storage else { throw CompositionError(message: "\(part) needs the uploads' storage") }
        return storage
    }
}
