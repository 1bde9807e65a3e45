public import Metrics
import SluiceCore

/// The engine's measurements, through swift-metrics, into the backend the embedder gives
/// (``init(factory:)``: `sluice serve` and `sluice worker` give their Prometheus registry's); by
/// default they go nowhere and cost nothing. The library never bootstraps a global backend:
/// that is the executable's choice, and tests each get their own.
public struct EngineMetrics: Sendable {
    let factory: any MetricsFactory

    public init(factory: any MetricsFactory) {
        self.factory = factory
    }

    /// Measurements that go nowhere.
    public static let none = EngineMetrics(factory: NOOPMetricsHandler.instance)

    // MARK: Declared at start

    // Each series is made (at zero) when the part that counts it starts, not at its first
    // event: a dashboard or alert over `rate(…)` of a series that does not exist yet sees
    // nothing, not zero, and an operator cannot tell "no failures" from "not counted".

    /// A provider's calls by outcome, their durations, its gate's waits and its hedges.
    func declare(provider: String) {
        for outcome in ["succeeded"] + ProviderFailure.metricOutcomes {
            _ = Counter(label: "sluice_provider_calls_total", dimensions: [("provider", provider), ("outcome", outcome)], factory: factory)
        }
        _ = Timer(label: "sluice_provider_call_duration_seconds", dimensions: [("provider", provider)], factory: factory)
        _ = Timer(label: "sluice_limiter_wait_seconds", dimensions: [("provider", provider)], factory: factory)
        _ = Counter(label: "sluice_provider_hedges_total", dimensions: [("provider", provider)], factory: factory)
    }

    /// A background loop's failed rounds.
    func declare(loop: String) {
        _ = Counter(label: "sluice_failed_rounds_total", dimensions: [("loop", loop)], factory: factory)
    }

    /// Recorded item outcomes and cache hits.
    func declareOutcomes() {
        for outcome in ["succeeded", "failed", "retried", "deferred", "repacked", "cut_at_limit"] {
            _ = Counter(label: "sluice_items_total", dimensions: [("outcome", outcome)], factory: factory)
        }
        _ = Counter(label: "sluice_cache_hits_total", factory: factory)
    }

    /// Webhook tries by outcome.
    func declareWebhookTries() {
        for outcome in ["delivered", "retrying", "failed"] {
            _ = Counter(label: "sluice_webhook_tries_total", dimensions: [("outcome", outcome)], factory: factory)
        }
    }

    /// One model call: its outcome (`succeeded`, `rate_limited`, `transient`, `rejected`,
    /// `unauthorized`) and how long it took.
    func call(provider: String, outcome: String, seconds: Double) {
        Counter(label: "sluice_provider_calls_total", dimensions: [("provider", provider), ("outcome", outcome)], factory: factory)
            .increment()
        Timer(label: "sluice_provider_call_duration_seconds", dimensions: [("provider", provider)], factory: factory)
            .recordNanoseconds(Int64(max(0, seconds) * 1e9))
    }

    /// Time a call waited at its provider's gate (rate limits, in-flight cap, open circuit).
    /// A hung call raced by a second one (see `ItemRunner.complete`).
    func hedge(provider: String) {
        Counter(label: "sluice_provider_hedges_total", dimensions: [("provider", provider)], factory: factory).increment()
    }

    func limiterWait(provider: String, seconds: Double) {
        Timer(label: "sluice_limiter_wait_seconds", dimensions: [("provider", provider)], factory: factory).recordNanoseconds(
            Int64(max(0, seconds) * 1e9))
    }

    /// A background loop's round the store refused (`loop`: `reaper`, `ingest`, `claim`,
    /// `recording results`); each is tried again after a pause.
    func failedRound(loop: String) {
        Counter(label: "sluice_failed_rounds_total", dimensions: [("loop", loop)], factory: factory).increment()
    }

    /// One try of a webhook delivery: `delivered`, `retrying` (it failed and will be tried
    /// again) or `failed` (it failed and its tries are spent).
    public func webhookTry(outcome: String) {
        Counter(label: "sluice_webhook_tries_total", dimensions: [("outcome", outcome)], factory: factory).increment()
    }

    /// Outcomes recorded for items: `succeeded`, `failed`, `retried`, `deferred`, `repacked`,
    /// `cut_at_limit` (asked again with a larger reply limit, or pausing its job at the cap);
    /// the successes the result cache answered (`sluice_cache_hits_total`); and what the calls
    /// spent, by provider and model: `sluice_tokens_total` (`kind`: `prompt`, `completion`,
    /// `cached`) and `sluice_cost_usd_total`, as the usage ledger counts them.
    func recorded(_ outcomes: [ItemOutcome]) {
        var tally: [String: Int] = [:]
        var spent: [[String]: (usage: TokenUsage, micros: Int64)] = [:]
        for outcome in outcomes {
            if let provider = outcome.provider {
                let key = [provider, outcome.model ?? ""]
                let sum = spent[key] ?? (TokenUsage(), 0)
                spent[key] = (sum.usage + outcome.usage, sum.micros + outcome.costMicros)
            }
            switch outcome.result {
            case .succeeded:
                tally["succeeded", default: 0] += 1
                if outcome.cached { tally["cache_hit", default: 0] += 1 }
            case .failed: tally["failed", default: 0] += 1
            case .retry: tally["retried", default: 0] += 1
            case .deferred: tally["deferred", default: 0] += 1
            case .repack: tally["repacked", default: 0] += 1
            case .raiseReplyLimit, .capped: tally["cut_at_limit", default: 0] += 1
            }
        }
        if let hits = tally.removeValue(forKey: "cache_hit") {
            Counter(label: "sluice_cache_hits_total", factory: factory).increment(by: hits)
        }
        for (outcome, count) in tally {
            Counter(label: "sluice_items_total", dimensions: [("outcome", outcome)], factory: factory).increment(by: count)
        }
        for (key, sum) in spent {
            let (provider, model) = (("provider", key[0]), ("model", key[1]))
            for (kind, tokens) in [
                ("prompt", sum.usage.promptTokens), ("completion", sum.usage.completionTokens), ("cached", sum.usage.cachedTokens),
            ] where tokens > 0 {
                Counter(label: "sluice_tokens_total", dimensions: [provider, model, ("kind", kind)], factory: factory).increment(by: tokens)
            }
            if sum.micros > 0 {
                FloatingPointCounter(label: "sluice_cost_usd_total", dimensions: [provider, model], factory: factory)
                    .increment(by: Double(sum.micros) / 1_000_000)
            }
        }
    }
}

extension ProviderFailure {
    /// Every `outcome` label a failed call may have.
    static let metricOutcomes = ["rate_limited", "transient", "unavailable", "rejected", "unauthorized"]

    /// The `outcome` label of a failed call.
    var metricOutcome: String {
        switch self {
        case .rateLimited: "rate_limited"
        case .transient: "transient"
        case .unavailable: "unavailable"
        case .rejected: "rejected"
        case .unauthorized: "unauthorized"
        }
    }
}
