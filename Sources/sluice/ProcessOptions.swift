import ArgumentParser
import Logging
import Metrics
import OTel
import Prometheus
import SluiceEngine

/// What every long-running process takes: how many calls it makes at once, and how much it logs.
struct ProcessOptions: ParsableArguments {
    @Option(help: "Model calls in flight at once in this process's worker.")
    var concurrency = EngineConfiguration.defaultConcurrency

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    func validate() throws {
        guard concurrency > 0 else { throw ValidationError("--concurrency must be at least 1") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
    }

    /// Sends logs as JSON lines to standard error, from `--log-level` up.
    func startLogging() -> Logger {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap(
            { label, provider in JSONLogHandler(label: label, level: level, metadataProvider: provider) },
            metadataProvider: ProcessTracing.isRequested() ? OTel.makeLoggingMetadataProvider() : nil)
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
