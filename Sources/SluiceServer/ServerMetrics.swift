import Foundation
import Hummingbird
import Logging
import Metrics
import NIOCore
public import Prometheus
import SluiceCore
import SluiceStore
import Synchronization

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
