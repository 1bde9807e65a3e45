import Foundation
import Hummingbird
import Metrics
import NIOCore
public import Prometheus
import SluiceCore
import SluiceStore
import Synchronization
import Logging

/// `/healthz`, `/readyz`, `/metrics` and `/openapi.yaml`: what operators and tools probe.
struct OperationsRoutes {
    let api: SluiceAPI
    let metrics: ServerMetrics?

    func add(to routes: RouteTable) {
        routes.add(.get, "/healthz") { _, _ in Response.json(["status": "ok"]) }
        // Unauthenticated, so it says ready or not and nothing more; why goes to the log.
        routes.add(.get, "/readyz") { _, context in
            do {
                try await api.store.checkReady()
                return Response.json(["status": "ready"])
            } catch {
                context.logger.error(
                    "not ready", metadata: ["error": "\(error)", "driver": "\((error as? StoreError)?.driverError.map { "\($0)" } ?? "-")"])
                return Response.json(["status": "not_ready"], status: .serviceUnavailable)
            }
        }
        let token = api.configuration.metricsToken
        routes.add(.get, "/metrics") { [metrics] request, _ in
            guard let metrics else {
                throw APIError(.notFound, code: "not_found", "this server was started without a metrics registry")
            }
            if let token {
                let presented = (try? AuthMiddleware.presentedKey(request)) ?? nil
                guard BrowserSession.constantTimeEqual(presented ?? "", token) else {
                    throw APIError(
                        .unauthorized, code: "invalid_metrics_token", "/metrics needs Authorization: Bearer <the metrics token>",
                        headers: [.wwwAuthenticate: "Bearer"])
                }
            }
            // The census counts every job and open item: at most once per interval, whoever scrapes.
            if metrics.census.due() { metrics.record(try await api.store.census(), uploadsInProgress: api.uploadSlots.inProgress) }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer())))
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

/// The Prometheus registry `/metrics` shows, given by whoever embeds the server (`sluice serve`
/// makes one and makes it the process's swift-metrics backend too, so the engine's and
/// Hummingbird's measurements land in it); the library never installs a backend itself.
public struct ServerMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let census: CensusSchedule

    /// - Parameter censusInterval: How stale the store's gauges (jobs by status, queue depth)
    ///   may be: the census behind them reads every job, so scrapes more often than this share one.
    public init(registry: PrometheusCollectorRegistry, censusInterval: Double = 5) {
        self.registry = registry
        census = CensusSchedule(interval: censusInterval)
    }

    /// Sets the gauges read at scrape time: from the store, and this process's uploads.
    func record(_ census: StoreCensus, uploadsInProgress: Int) {
        let uploads = MetricNameDescriptor(
            namespace: "sluice", metricName: "uploads_in_progress", unitName: "", helpText: "Uploads streaming into this process now")
        registry.makeGauge(descriptor: uploads).set(Double(uploadsInProgress))
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

/// When the next store census is due: scrapers (several Prometheus servers, or a hostile
/// client where `/metrics` is open) share one census per interval.
final class CensusSchedule: Sendable {
    let interval: Double
    private let last = Mutex<ContinuousClock.Instant?>(nil)

    init(interval: Double) {
        self.interval = interval
    }

    /// `true` (and the clock restarts) when no census was taken within the interval.
    func due() -> Bool {
        let now = ContinuousClock.now
        return last.withLock { last in
            if let taken = last, taken.duration(to: now) < .seconds(interval) { return false }
            last = now
            return true
        }
    }
}
