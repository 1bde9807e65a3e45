import Metrics
import SluiceCore

/// The engine's measurements, through swift-metrics: whatever backend the process bootstraps
/// (Prometheus under `sluice serve`) collects them; without one they cost nothing.
enum EngineMetrics {
    /// One model call: its outcome (`succeeded`, `rate_limited`, `transient`, `rejected`,
    /// `unauthorized`) and how long it took.
    static func call(provider: String, outcome: String, seconds: Double) {
        Counter(label: "sluice_provider_calls_total", dimensions: [("provider", provider), ("outcome", outcome)]).increment()
        Timer(label: "sluice_provider_call_duration_seconds", dimensions: [("provider", provider)])
            .recordNanoseconds(Int64(max(0, seconds) * 1e9))
    }

    /// Time a call waited at its provider's gate (rate limits, in-flight cap, open circuit).
    static func limiterWait(provider: String, seconds: Double) {
        Timer(label: "sluice_limiter_wait_seconds", dimensions: [("provider", provider)]).recordNanoseconds(Int64(max(0, seconds) * 1e9))
    }

    /// Outcomes recorded for items: `succeeded`, `failed`, `retried`, `deferred`, `repacked`;
    /// and the successes the result cache answered (`sluice_cache_hits_total`).
    static func recorded(_ outcomes: [ItemOutcome]) {
        var tally: [String: Int] = [:]
        for outcome in outcomes {
            switch outcome.result {
            case .succeeded:
                tally["succeeded", default: 0] += 1
                if outcome.cached { tally["cache_hit", default: 0] += 1 }
            case .failed: tally["failed", default: 0] += 1
            case .retry: tally["retried", default: 0] += 1
            case .deferred: tally["deferred", default: 0] += 1
            case .repack: tally["repacked", default: 0] += 1
            }
        }
        if let hits = tally.removeValue(forKey: "cache_hit") { Counter(label: "sluice_cache_hits_total").increment(by: hits) }
        for (outcome, count) in tally {
            Counter(label: "sluice_items_total", dimensions: [("outcome", outcome)]).increment(by: count)
        }
    }
}

extension ProviderFailure {
    /// The `outcome` label of a failed call.
    var metricOutcome: String {
        switch self {
        case .rateLimited: "rate_limited"
        case .transient: "transient"
        case .rejected: "rejected"
        case .unauthorized: "unauthorized"
        }
    }
}
