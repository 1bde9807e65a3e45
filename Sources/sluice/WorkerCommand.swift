import ArgumentParser
import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import SluiceCore
import SluiceEngine
import SluiceProviders
import SluiceServer
import SluiceStore

/// `sluice worker`: a headless worker — claims, model calls, the reaper — against a database
/// that API processes (`sluice serve --no-workers`) fill. Run as many as the load needs, on
/// as many machines; with PostgreSQL they share one rate limit per provider.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run workers only: claim items, call the models, record results.",
        discussion: """
            SIGTERM or Ctrl-C stops claiming, lets the calls in flight finish (or gives their items back) and exits 0.
            """)

    @OptionGroup var databaseOption: DatabaseOption

    @OptionGroup var processOptions: ProcessOptions

    @OptionGroup var providerOptions: ProviderOptions

    var concurrency: Int { processOptions.concurrency }

    func run() async throws {
        let logger = processOptions.startLogging()
        let configuration = try providerOptions.configuration()
        try await databaseOption.withStore(logger: logger) { store in
            try await EngineServices.run(
                // Workers are run to be several: on SQLite too, they share the providers' limits.
                store: store, sharesLimits: true, configuration: configuration, concurrency: concurrency, logger: logger
            ) {
                services, _ in
                let group = ServiceGroup(
                    configuration: ServiceGroupConfiguration(
                        services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
                        gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
                logger.notice("sluice worker is running", metadata: ["concurrency": "\(concurrency)"])
                FileHandle.standardOutput.write(Data("sluice worker running (concurrency \(concurrency))\n".utf8))
                try await group.run()
            }
        }
    }
}

/// What every long-running process takes: how many calls it makes at once, and how much it logs.
struct ProcessOptions: ParsableArguments {
    @Option(help: "Model calls in flight at once in this process's worker.")
    var concurrency = 64

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    func validate() throws {
        guard concurrency > 0 else { throw ValidationError("--concurrency must be at least 1") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
    }

    /// Sends logs as JSON lines to standard error, from `--log-level` up.
    func startLogging() -> Logger {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level) }
        return Logger(label: "sluice")
    }

    /// Makes a Prometheus registry the process's swift-metrics backend, so the engine's and the
    /// HTTP server's measurements all land in the one `/metrics` shows. The process's choice,
    /// made here once; the libraries only take the registry.
    func startMetrics() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }
}

/// The worker and reaper a process runs, with the HTTP client their providers share: made
/// once here for `serve` and `worker`.
enum EngineServices {
    /// Runs `body` with the services, then shuts the HTTP client down, whether `body` throws or not.
    /// `sharesLimits`: take calls' start times from the providers' schedule in the database (see
    /// ``PaceStore``), as every process on a PostgreSQL database must.
    ///
    /// Every service measures time by the database's clock (``DatabaseClock``), measured once
    /// before any claim and kept up while they run; `body` is given it for its own services.
    static func run(
        store: SQLJobStore, sharesLimits: Bool, configuration: SluiceConfiguration, concurrency: Int, logger: Logger,
        metrics: EngineMetrics = .none, _ body: ([any Service], any SluiceClock) async throws -> Void
    ) async throws {
        let clock = DatabaseClock(store: store, logger: logger)
        try await clock.synchronize()
        let slowest = configuration.providers.map(\.timeoutSeconds).max() ?? 120
        let http = ProviderHTTPClient(readTimeoutSeconds: Int64(slowest.rounded(.up)))
        let engine = EngineConfiguration(concurrency: concurrency, sharedPace: sharesLimits ? store : nil)
        let services: [any Service] = [
            Worker(
                store: store, providers: try ProviderCatalog.registry(for: configuration, http: http), configuration: engine,
                clock: clock, logger: logger, metrics: metrics),
            Reaper(store: store, interval: engine.reaperInterval, clock: clock, logger: logger, metrics: metrics),
            clock,
        ]
        do {
            try await body(services, clock)
            try await http.shutdown()
        } catch {
            try? await http.shutdown()
            throw error
        }
    }
}
