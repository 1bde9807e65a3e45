import Foundation
public import SluiceCore
import SluiceIngest
public import SluiceProviders
import SluiceWire

/// What a job would cost and take before it spends anything: the whole input read as the
/// job would read it (nothing stored), every call's prompt built to count its tokens, and a
/// few calls made for real to learn what a reply costs and how long it takes.
///
/// What is measured and what is guessed is said in ``basis``: prompt tokens are counted at four
/// characters a token, scaled by what the provider reported for the sample; reply tokens are
/// the sample's average; no prompt-cache discount is assumed (the cost is an upper bound where
/// a prompt prefix is shared); the time assumes the provider's configured limits, or the
/// sample's pace with every slot busy when none is configured.
public struct JobEstimate: Sendable {
    public var rows: Int
    public var calls: Int
    public var promptTokens: Int
    public var completionTokens: Int
    /// Calls made to learn the replies, and what they cost.
    public var sampleCalls: Int
    public var sampleCostMicros: Int64
    /// The cost at each tier, in millionths of a dollar; empty when the model has no price.
    public var costMicros: [(tier: Tier, micros: Int64)]
    /// Seconds the live calls would take; `nil` when nothing says.
    public var liveSeconds: Double?
    /// What the figures rest on, in words.
    public var basis: [String]
    /// A problem in the input, with its line: the job would fail there.
    public var problem: JobErrorEntry?

    /// Reads `sources` on the heavy-work pool in `owner`'s share, then samples `sampleSize`
    /// calls through `provider` (none when `nil`).
    public static func make(
        spec: JobSpec, sources: [(path: String, source: JobSource)], provider: (any ModelProvider)?, limits: RateLimits,
        prices: ModelPrices, concurrency: Int, sampleSize: Int = 3, owner: String
    ) async throws -> JobEstimate {
        let counted = try await BlockingWork.heavy.run(owner: owner) {
            count(spec: spec, sources: sources, keep: sampleSize, imagesBy: provider?.imageTokenRule ?? .pixels)
        }
        var estimate = JobEstimate(
            rows: counted.rows, calls: counted.calls, promptTokens: Int(counted.promptTokens.rounded()), completionTokens: 0,
            sampleCalls: 0,
            sampleCostMicros: 0, costMicros: [], liveSeconds: nil, basis: [], problem: counted.problem)
        guard estimate.problem == nil else { return estimate }
        // The sample: the first calls, made for real.
        var reported = (prompt: 0, completion: 0, estimated: 0.0)
        var seconds: [Double] = []
        var failures: [String] = []
        if let provider {
            for request in counted.sample {
                let started = Date()
                do throws(ProviderFailure) {
                    let reply = try await provider.complete(request)
                    seconds.append(Date().timeIntervalSince(started))
                    reported.prompt += reply.usage.promptTokens
                    reported.completion += reply.usage.completionTokens
                    reported.estimated += request.promptTokens(imagesBy: provider.imageTokenRule)
                    estimate.sampleCalls += 1
                    estimate.sampleCostMicros += prices.costMicros(model: request.model, usage: reply.usage, tier: reply.tier)
                } catch {
                    failures.append(error.message)
                }
            }
        }
        let perCallReply: Double?
        if estimate.sampleCalls > 0, reported.prompt + reported.completion > 0 {
            let scale = Double(reported.prompt) / max(reported.estimated, 1)
            estimate.promptTokens = Int((counted.promptTokens * scale).rounded())
            perCallReply = Double(reported.completion) / Double(estimate.sampleCalls)
            estimate.basis.append(
                "prompt tokens: counted at 4 characters a token, scaled ×\(String(format: "%.2f", scale)) by what the provider reported for \(estimate.sampleCalls) sample call(s)"
            )
            estimate.basis.append(
                "reply tokens: the sample's average, \(String(format: "%.0f", perCallReply!)) a call, over \(estimate.sampleCalls) call(s) — a small sample: replies of other rows may be longer or shorter"
            )
        } else {
            perCallReply = counted.sample.first?.maxReplyTokens
            estimate.basis.append("prompt tokens: counted at 4 characters a token (no sample call reported usage)")
            estimate.basis.append(
                perCallReply.map { "reply tokens: at most \(Int($0)) a call (the request's max_tokens); no sample to say more" }
                    ?? "reply tokens: unknown — no sample call reported usage and the request sets no max_tokens")
        }
        if !failures.isEmpty { estimate.basis.append("sample calls that failed: \(failures.count) (\(failures[0]))") }
        estimate.completionTokens = Int(((perCallReply ?? 0) * Double(estimate.calls)).rounded())
        let usage = TokenUsage(promptTokens: estimate.promptTokens, completionTokens: estimate.completionTokens)
        if prices.price(forModel: spec.model) != nil {
            estimate.costMicros = [Tier.standard, .flex, .batch].map { ($0, prices.costMicros(model: spec.model, usage: usage, tier: $0)) }
            estimate.basis.append("cost: at the configured prices, with no prompt-cache discount (an upper bound when rows share a prefix)")
        } else {
            estimate.basis.append("cost: no price is configured for model '\(spec.model)'")
        }
        estimate.liveSeconds = liveSeconds(
            calls: estimate.calls,
            tokensPerCall: Double(estimate.promptTokens + estimate.completionTokens) / Double(max(1, estimate.calls)),
            limits: limits, meanSeconds: seconds.isEmpty ? nil : seconds.reduce(0, +) / Double(seconds.count), concurrency: concurrency,
            basis: &estimate.basis)
        return estimate
    }

    /// The live time: the binding configured limit, else the sample's pace with every slot busy.
    static func liveSeconds(
        calls: Int, tokensPerCall: Double, limits: RateLimits, meanSeconds: Double?, concurrency: Int, basis: inout [String]
    ) -> Double? {
        var perSecond: [Double] = []
        if let rpm = limits.requestsPerMinute { perSecond.append(rpm / 60) }
        if let tpm = limits.tokensPerMinute, tokensPerCall > 0 { perSecond.append(tpm / 60 / tokensPerCall) }
        if let slowest = perSecond.min(), slowest > 0 {
            basis.append("time: at the provider's configured limits, \(String(format: "%.1f", slowest)) calls a second")
            return Double(calls) / slowest
        }
        if let meanSeconds {
            basis.append(
                "time: no limits configured; \(concurrency) calls at once at the sample's \(String(format: "%.2f", meanSeconds)) s a call — a provider's own limits may make it slower"
            )
            return Double(calls) * meanSeconds / Double(max(1, concurrency))
        }
        basis.append("time: unknown — no limits configured and no sample call")
        return nil
    }

    struct Counted {
        var rows = 0
        var calls = 0
        var promptTokens = 0.0
        var sample: [ModelRequest] = []
        var problem: JobErrorEntry?
    }

    /// Reads every record, builds every call's prompt (packs as the job would pack them), and
    /// keeps the first `keep` requests for the sample.
    static func count(spec: JobSpec, sources: [(path: String, source: JobSource)], keep: Int, imagesBy rule: ImageTokens.Rule) -> Counted {
        var counted = Counted()
        let builder = PromptBuilder(spec: spec)
        var pack: [(key: String, input: JSONObject)] = []
        func call(_ request: ModelRequest) {
            counted.calls += 1
            counted.promptTokens += request.promptTokens(imagesBy: rule)
            if counted.sample.count < keep { counted.sample.append(request) }
        }
        var files: ZipFiles?
        func flush() throws {
            guard !pack.isEmpty else { return }
            call(
                pack.count == 1
                    ? try ItemRequest.build(
                        spec: spec, input: pack[0].input, files: files?.sources(for: pack[0].input, columns: spec.images))
                    : try builder.packedRequest(for: pack))
            pack.removeAll(keepingCapacity: true)
        }
        var failure: String?
        counted.problem = JobPreview.forEachRecord(spec: spec, sources: sources) { item, zip in
            files = zip
            // A row refused as it is read (an image it names cannot be sent) fails without a call.
            guard item.failure == nil else {
                counted.rows += 1
                return true
            }
            do {
                pack.append((PromptBuilder.rowKey(index: counted.rows), item.input))
                counted.rows += 1
                if pack.count >= spec.itemsPerRequest { try flush() }
                return true
            } catch {
                failure = "row \(counted.rows - 1)'s prompt cannot be built: \(error)"
                return false
            }
        }
        if counted.problem == nil, failure == nil {
            do { try flush() } catch { failure = "the last rows' prompt cannot be built: \(error)" }
        }
        if let failure { counted.problem = counted.problem ?? JobErrorEntry(message: failure) }
        if counted.problem == nil, counted.rows == 0 { counted.problem = JobErrorEntry(message: "the input has no records") }
        return counted
    }

    /// The figures in lines for a person (``basis`` says what they rest on).
    public var summary: [String] {
        var lines = ["estimate: \(rows) rows in \(calls) calls; about \(promptTokens) prompt and \(completionTokens) completion tokens"]
        if !costMicros.isEmpty {
            lines.append(
                "cost: "
                    + costMicros.map { "\($0.tier.rawValue) " + String(format: "$%.4f", Double($0.micros) / 1_000_000) }
                    .joined(separator: ", "))
        }
        lines.append(
            "time: " + (liveSeconds.map { String(format: "about %.0f s live", $0) } ?? "unknown live")
                + "; batch within 24 hours (usually much sooner)")
        lines.append(
            "sample: \(sampleCalls) call(s)" + (sampleCostMicros > 0 ? String(format: ", $%.4f", Double(sampleCostMicros) / 1_000_000) : "")
        )
        return lines
    }

    /// The estimate as the API answers it.
    public var json: JSONValue {
        var object = JSONObject([
            ("object", "job.estimate"), ("rows", .int(rows)), ("calls", .int(calls)), ("prompt_tokens", .int(promptTokens)),
            ("completion_tokens", .int(completionTokens)), ("sample_calls", .int(sampleCalls)),
            ("sample_cost_usd", .double(Double(sampleCostMicros) / 1_000_000)),
        ])
        object["cost_usd"] =
            costMicros.isEmpty ? .null : .object(JSONObject(costMicros.map { ($0.tier.rawValue, .double(Double($0.micros) / 1_000_000)) }))
        object["live_seconds"] = liveSeconds.map { .double(($0 * 10).rounded() / 10) } ?? .null
        object["batch_within_seconds"] = .int(Int(JobDeadline.autoSeconds))
        object["basis"] = .array(basis.map(JSONValue.string))
        object["problem"] = problem?.json ?? .null
        return .object(object)
    }
}
