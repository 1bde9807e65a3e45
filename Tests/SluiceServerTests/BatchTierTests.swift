import Foundation
import SluiceCore
import SluiceEngine
import SluiceProviders
import SluiceStore
import SluiceTestSupport
import Testing

/// The batch tier against a real upstream: a second Sluice, which speaks both OpenAI's batch
/// API and Anthropic's Message Batches, over loopback.
@Suite(.loadsTheMachine) struct BatchTierTests {
    enum Kind: String, CaseIterable { case openai, anthropic }

    /// Polls at once and often: the upstream answers in well under a second.
    static let fastBatches: EngineConfiguration = {
        var engine = EngineConfiguration(concurrency: 8, idleInterval: 0.1)
        engine.batches = BatchSettings(pollInterval: 0.05, maxPollInterval: 0.2, idleInterval: 0.05)
        return engine
    }()

    static func provider(_ kind: Kind, upstream: String, http: ProviderHTTPClient) -> (any ModelProvider, ProviderSettings) {
        switch kind {
        case .openai:
            let endpoint = ProviderEndpoint(baseURL: upstream + "/v1", apiKey: "sk-upstream", http: http)
            return (
                OpenAICompatibleProvider(name: "upstream", endpoint: endpoint),
                ProviderSettings(name: "upstream", kind: .openai, baseURL: upstream + "/v1", apiKey: "sk-upstream")
            )
        case .anthropic:
            let endpoint = ProviderEndpoint(baseURL: upstream, apiKey: "sk-upstream", http: http)
            return (
                AnthropicProvider(name: "upstream", endpoint: endpoint),
                ProviderSettings(name: "upstream", kind: .anthropic, baseURL: upstream, apiKey: "sk-upstream")
            )
        }
    }

    /// A prompt with no output schema: the upstream's built-in model answers any prompt with text.
    static let query = "template=Summarise%3A%20%7B%7Btext%7D%7D&provider=upstream&model=sluice-offline&tier=batch"

    @Test(arguments: Kind.allCases)
    func aBatchJobIsAnsweredThroughTheUpstreamsBatchAPIAtTheBatchPrice(kind: Kind) async throws {
        let http = ProviderHTTPClient()
        defer { Task { try? await http.shutdown() } }
        try await ServerHarness.with { upstream in
            let (provider, settings) = Self.provider(kind, upstream: upstream.baseURL, http: http)
            try await ServerHarness.with(providers: [provider], settings: [settings], engine: Self.fastBatches) { sluice in
                let created = try await sluice.submit(reviewsCSV(30), query: Self.query)
                #expect(created.status == 202, "\(created.text)")
                let id = try #require(created.json["id"]?.stringValue)
                let done = try await sluice.waitFor(id, until: ServerHarness.isFinal)
                #expect(done["status"] == "completed", "\(done)")
                #expect(done["counts"]?["succeeded"] == 30)
                #expect(done["tier"] == "batch")
                #expect(done["usage"]?["calls_by_tier"]?["batch"] == 30 && done["usage"]?["calls_by_tier"]?["standard"] == 0)
                let items = try await sluice.store.items(jobID: id, status: nil, afterIndex: -1, limit: 100)
                #expect(items.count == 30 && items.allSatisfy { $0.status == .succeeded && $0.attempts == 1 && $0.output != nil })
                // Upstream, one batch made of them, answered whole.
                let batches = try await upstream.get(kind == .openai ? "/v1/batches" : "/v1/messages/batches").json
                let listed = try #require(batches["data"]?.arrayValue)
                try #require(listed.count == 1, "\(batches)")
                if kind == .openai {
                    #expect(listed[0]["status"] == "completed" && listed[0]["request_counts"]?["completed"] == 30)
                    #expect(listed[0]["metadata"]?["sluice_batch"]?.stringValue?.hasPrefix("ub_") == true)
                } else {
                    #expect(listed[0]["processing_status"] == "ended" && listed[0]["request_counts"]?["succeeded"] == 30)
                }
                #expect(try await sluice.store.claimDueUpstreamBatch(worker: "t", leaseSeconds: 1, now: Date()) == nil, "no batch left")
            }
        }
    }

    /// Cancelling the job stops its upstream batch; the items the upstream never ran end
    /// cancelled, none failed, none run live.
    @Test func cancellingABatchJobCancelsItsUpstreamBatch() async throws {
        let http = ProviderHTTPClient()
        defer { Task { try? await http.shutdown() } }
        // An upstream with no workers: its batch waits until cancelled.
        try await ServerHarness.with(workers: false) { upstream in
            let (provider, settings) = Self.provider(.openai, upstream: upstream.baseURL, http: http)
            try await ServerHarness.with(providers: [provider], settings: [settings], engine: Self.fastBatches) { sluice in
                let id = try #require(try await sluice.submit(reviewsCSV(20), query: Self.query).json["id"]?.stringValue)
                let upstreamBatch = try await waitForChange(of: upstream.store, what: "the upstream batch") {
                    try await upstream.get("/v1/batches").json["data"]?.arrayValue?.first?["id"]?.stringValue
                }
                #expect(try await sluice.post("/v1/jobs/\(id)/cancel").status == 200)
                let done = try await sluice.waitFor(id, until: ServerHarness.isFinal)
                #expect(done["status"] == "cancelled")
                #expect(done["counts"]?["cancelled"] == 20 && done["counts"]?["failed"] == 0)
                let status = try await upstream.get("/v1/batches/\(upstreamBatch)").json["status"]?.stringValue
                #expect(status == "cancelled" || status == "cancelling", "the cancel reached the upstream: \(status ?? "none")")
            }
        }
    }
}
