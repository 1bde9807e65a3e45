import Foundation
import OTel
import ServiceLifecycle
import SluiceEngine

/// Traces exported over OTLP/HTTP, when the standard `OTEL_EXPORTER_OTLP_ENDPOINT` (or
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set; the other `OTEL_*` variables (service name,
/// sampler, headers, timeout…) are read by swift-otel. Without an endpoint nothing is
/// bootstrapped: spans go to the no-op tracer and cost a few attribute writes each.
enum ProcessTracing {
    /// What each command's help says about traces.
    static let help = """
        Traces: with OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) set, spans are \
        exported over OTLP/HTTP; OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER and the other OTEL_* variables \
        are read as OpenTelemetry specifies.
        """

    /// Whether the environment asks for traces.
    static func isRequested(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"].contains { !(environment[$0] ?? "").isEmpty }
    }

    /// Makes the exporter the process's tracer; the returned service sends the spans (run it
    /// beside the process's others, so a graceful stop flushes them). Logs and metrics keep
    /// their own backends (JSON lines, Prometheus).
    static func start() throws -> ServiceGroupConfiguration.ServiceConfiguration? {
        guard isRequested() else { return nil }
        var configuration = OTel.Configuration.default
        configuration.serviceName = "sluice"
        // Its own notes (each variable it read) only from warnings up; OTEL_LOG_LEVEL overrides.
        configuration.diagnosticLogLevel = .warning
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        let (tracer, service) = try OTel.makeTracingBackend(configuration: configuration)
        TraceContext.bootstrap(tracer)
        return .init(service: service)
    }
}
