import Foundation
import Hummingbird
import Metrics
import NIOCore
import Prometheus
import SluiceCore
import SluiceStore

/// `/healthz`, `/readyz`, `/metrics` and `/openapi.yaml`: what operators and tools probe.
struct OperationsRoutes {
    let api: SluiceAPI

    func add(to routes: RouteTable) {
        routes.add(.get, "/healthz") { _, _ in Response.json(["status": "ok"]) }
        routes.add(.get, "/readyz") { _, _ in
            do {
                try await api.store.checkReady()
                return Response.json(["status": "ready"])
            } catch {
                return Response.json(["status": "not_ready", "reason": .string("\(error)")], status: .serviceUnavailable)
            }
        }
        routes.add(.get, "/metrics") { _, _ in
            let census = try await api.store.census()
            ServerMetrics.record(census)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: ServerMetrics.registry.emitToBuffer())))
        }
        // Read once when the routes are built, not on every request.
        let description = Self.apiDescription()
        routes.add(.get, "/openapi.yaml") { _, _ in
            guard let description else {
                throw APIError(.internalServerError, code: "server_error", "the API description is missing from this build")
            }
            return Response(status: .ok, headers: [.contentType: "application/yaml"], body: ResponseBody(byteBuffer: description))
        }
    }

    static func apiDescription() -> ByteBuffer? {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml", subdirectory: "Resources"),
            let data = FileManager.default.contents(atPath: url.path)
        else { return nil }
        return ByteBuffer(bytes: data)
    }
}

/// The process's Prometheus registry, made the swift-metrics backend once, so the engine's
/// counters and timers (provider calls, limiter waits, item outcomes) appear in `/metrics`.
enum ServerMetrics {
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    /// Sets the gauges that are read from the store at scrape time.
    static func record(_ census: StoreCensus) {
        let jobs = MetricNameDescriptor(namespace: "sluice", metricName: "jobs", unitName: "", helpText: "Jobs by status")
        for status in JobStatus.allCases {
            registry.makeGauge(descriptor: jobs, labels: [("status", status.rawValue)]).set(Double(census.jobsByStatus[status] ?? 0))
        }
        let depth = MetricNameDescriptor(
            namespace: "sluice", metricName: "queue_depth", unitName: "", helpText: "Pending items of unfinished jobs")
        registry.makeGauge(descriptor: depth).set(Double(census.openItems.pending))
        let inFlight = MetricNameDescriptor(
            namespace: "sluice", metricName: "items_in_flight", unitName: "", helpText: "Items leased to workers now")
        registry.makeGauge(descriptor: inFlight).set(Double(census.openItems.running))
    }
}
