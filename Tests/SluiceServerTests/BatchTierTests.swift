import Foundation
import SluiceCore
import SluiceEngine
import SluiceFakeProvider
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

extension BatchTierTests {
    /// A worker that stops after submitting leaves the batch in the database; another worker,
    /// which never saw it submitted, reads its results: each item answered once, nothing sent twice.
    @Test func anotherWorkerCarriesOnWithABatchTheFirstSubmitted() async throws {
        let http = ProviderHTTPClient()
        defer { Task { try? await http.shutdown() } }
        try await ServerHarness.with(workers: false) { upstream in
            let fixture = try await StoreDriver.current.makeStore()
            let store = fixture.store
            let (provider, _) = Self.provider(.openai, upstream: upstream.baseURL, http: http)
            let registry = ProviderRegistry(entries: [ProviderEntry(provider)])
            let spec = Fixtures.spec(["template": "{{text}}", "provider": "upstream", "model": "sluice-offline", "tier": "batch"])
            let job = try await Fixtures.queuedJob(in: store, count: 12, spec: spec, now: Date())
            var configuration = Self.fastBatches
            configuration.workerID = "first"
            let first = Worker(store: store, providers: registry, configuration: configuration)
            let running = Task { try await first.run() }
            let upstreamID = try await waitForChange(of: upstream.store, what: "the upstream batch") {
                try await upstream.get("/v1/batches").json["data"]?.arrayValue?.first?["id"]?.stringValue
            }
            first.drain()
            try await running.value
            #expect(try await store.job(id: job.id)?.counts.running == 12, "the batch holds the items while no worker runs")
            // The upstream answers now, with a worker of its own.
            let builtin = ProviderRegistry(entries: [ProviderEntry(BuiltinProvider())], defaultProvider: ProviderSettings.builtinName)
            let upstreamWorker = Worker(
                store: upstream.store, providers: builtin, configuration: EngineConfiguration(workerID: "upstream", concurrency: 4))
            let answered = Task { try await upstreamWorker.run() }
            _ = try await waitForChange(of: upstream.store, what: "the upstream batch to complete") {
                try await upstream.get("/v1/batches/\(upstreamID)").json["status"] == "completed" ? true : nil
            }
            upstreamWorker.drain()
            try await answered.value
            configuration.workerID = "second"
            let second = Worker(store: store, providers: registry, configuration: configuration)
            let carrying = Task { try await second.run() }
            let done = try await waitForJob(store, job.id) { $0.status.isFinal }
            second.drain()
            try await carrying.value
            #expect(done.status == .completed && done.counts.succeeded == 12)
            #expect(done.calls == 12 && done.batchCalls == 12)
            let items = try await store.items(jobID: job.id, status: nil, afterIndex: -1, limit: 100)
            #expect(items.allSatisfy { $0.attempts == 1 && $0.output != nil }, "each item sent once, answered once")
            #expect(try await upstream.get("/v1/batches").json["data"]?.arrayValue?.count == 1, "nothing submitted twice")
        }
    }

    /// An auto job whose deadline is near sends what is left live: its upstream batch is
    /// stopped, and the rows are answered by live calls at the standard price.
    @Test func anAutoJobGoesLiveWhenItsDeadlineNears() async throws {
        let http = ProviderHTTPClient()
        defer { Task { try? await http.shutdown() } }
        try await ServerHarness.with(workers: false) { upstream in
            try await withFakeProvider(FakeProviderBehaviour()) { fake, _ in
                let batches = OpenAICompatibleProvider(
                    name: "upstream", endpoint: ProviderEndpoint(baseURL: upstream.baseURL + "/v1", apiKey: "k", http: http))
                let live = OpenAICompatibleProvider(
                    name: "upstream", endpoint: ProviderEndpoint(baseURL: fake.baseURL + "/v1", apiKey: "k", http: http))
                let fixture = try await StoreDriver.current.makeStore()
                let store = fixture.store
                let registry = ProviderRegistry(entries: [ProviderEntry(SplitProvider(live: live, batchAPI: batches.batchAPI))])
                let spec = Fixtures.spec(
                    ["template": "{{text}}", "provider": "upstream", "model": "gpt-test", "tier": "auto", "deadline": "1h"])
                let job = try await Fixtures.queuedJob(in: store, count: 20, spec: spec, now: Date())
                var configuration = Self.fastBatches
                // Two hours' margin: a one-hour deadline is already too near for the batch API.
                configuration.batches.autoMargin = 7_200
                let worker = Worker(store: store, providers: registry, configuration: configuration)
                let running = Task { try await worker.run() }
                let done = try await waitForJob(store, job.id) { $0.status.isFinal }
                worker.drain()
                try await running.value
                #expect(done.status == .completed && done.counts.succeeded == 20)
                #expect(done.batchCalls == 0 && done.calls == 20, "answered live")
                #expect(fake.counters.succeeded == 20)
                if let upstreamBatch = try await upstream.get("/v1/batches").json["data"]?.arrayValue?.first {
                    #expect(upstreamBatch["status"] == "cancelled" || upstreamBatch["status"] == "cancelling", "\(upstreamBatch)")
                }
            }
        }
    }
}

/// A provider whose live calls go to one server and whose batch API is another's: the fake
/// answers live calls, a second Sluice the batches (the fake has no batch API).
struct SplitProvider: BatchingProvider {
    let live: OpenAICompatibleProvider
    let batchAPI: any BatchAPI
    var name: String { live.name }

    func complete(_ request: ModelRequest) async throws(ProviderFailure) -> ModelReply { try await live.complete(request) }
}

extension BatchTierTests {
    /// A provider's enqueued-token limit splits a job into several upstream batches, each
    /// sent once the ones before it left room.
    @Test func theEnqueuedTokenLimitSplitsAJobIntoSeveralBatches() async throws {
        let http = ProviderHTTPClient()
        defer { Task { try? await http.shutdown() } }
        try await ServerHarness.with { upstream in
            let fixture = try await StoreDriver.current.makeStore()
            let store = fixture.store
            let (provider, _) = Self.provider(.openai, upstream: upstream.baseURL, http: http)
            // Each call is about 2 tokens of prompt and 16 of reply: 40 hold two calls.
            let registry = ProviderRegistry(entries: [ProviderEntry(provider, limits: RateLimits(batchQueueTokens: 40))])
            let spec = Fixtures.spec([
                "template": "{{text}}", "provider": "upstream", "model": "sluice-offline", "tier": "batch", "params": ["max_tokens": 16],
            ])
            let job = try await Fixtures.queuedJob(in: store, count: 10, spec: spec, now: Date())
            let worker = Worker(store: store, providers: registry, configuration: Self.fastBatches)
            let running = Task { try await worker.run() }
            let done = try await waitForJob(store, job.id) { $0.status.isFinal }
            worker.drain()
            try await running.value
            #expect(done.status == .completed && done.batchCalls == 10)
            let batches = try #require(try await upstream.get("/v1/batches?limit=100").json["data"]?.arrayValue)
            #expect(batches.count == 5, "two calls a batch: \(batches.map { $0["request_counts"]?["total"] ?? .null })")
        }
    }
}

/// `dry_run=true`: the whole upload read, a sample called, nothing stored.
@Suite struct DryRunTests {
    @Test func aDryRunAnswersTheEstimateAndStoresNothing() async throws {
        try await ServerHarness.with { server in
            let reply = try await server.submit(reviewsCSV(250), query: "preset=text-classify&items_per_request=10&dry_run=true")
            #expect(reply.status == 200, "\(reply.text)")
            let estimate = reply.json
            #expect(estimate["object"] == "job.estimate" && estimate["rows"] == 250 && estimate["calls"] == 25, "\(estimate)")
            #expect(estimate["sample_calls"] == 3)
            #expect((estimate["prompt_tokens"]?.intValue ?? 0) > 0)
            #expect(estimate["basis"]?.arrayValue?.isEmpty == false)
            #expect(try await server.get("/v1/jobs").json["data"]?.arrayValue?.isEmpty == true, "no job stored")
            let uploads = try FileManager.default.contentsOfDirectory(atPath: server.directory.path("uploads"))
            #expect(uploads.allSatisfy { !$0.hasPrefix("job_") }, "nothing kept: \(uploads)")
            let broken = try await server.submit("id,text\n1,\"open\n", query: "preset=text-classify&dry_run=true")
            #expect(broken.status == 400 && broken.text.contains("line 2"), "\(broken.text)")
            let bad = try await server.submit(reviewsCSV(2), query: "preset=text-classify&dry_run=maybe")
            #expect(bad.status == 400 && bad.text.contains("dry_run must be true or false"))
        }
    }
}
