import Foundation
import SluiceCore
import SluiceFakeProvider
import SluiceProviders
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceEngine

/// The plans' workloads through the worker and the fake over loopback: packed rows that a
/// model gets wrong, the result cache, budgets and the failure brake.
@Suite(.loadsTheMachine) struct WorkloadTests {
    /// An answer that names its row, so a row given its neighbour's answer is caught.
    let echoSchema: JSONValue = ["type": "object", "required": ["text"], "properties": ["text": ["type": "string"]]]

    func spec(_ extra: [(String, JSONValue)] = []) -> JSONValue {
        var object = JSONObject([
            ("template", "{{text}}"), ("provider", "openai"), ("model", "gpt-test"), ("output_schema", echoSchema),
        ])
        for (key, value) in extra { object[key] = value }
        return .object(object)
    }

    /// Runs the jobs `make` creates against one fake until `condition` holds for the last one.
    func run(
        _ behaviour: FakeProviderBehaviour = FakeProviderBehaviour(), harness: EngineHarness, concurrency: Int = 8,
        cache: CacheSettings = CacheSettings(), _ body: (EngineHarness, Worker, FakeProviderServer) async throws -> Void
    ) async throws {
        try await withFakeProvider(behaviour) { fake, http in
            let provider = OpenAICompatibleProvider(
                name: "openai", endpoint: ProviderEndpoint(baseURL: fake.baseURL + "/v1", apiKey: "k", http: http))
            let registry = ProviderRegistry(
                entries: [ProviderEntry(provider, breaker: .init(failureThreshold: .max))],
                prices: ModelPrices([.init(pattern: "gpt-*", inputPerMillion: 1, outputPerMillion: 2)]), cache: cache)
            let worker = Worker(
                store: harness.store, providers: registry, configuration: EngineHarness.configuration(concurrency: concurrency))
            try await harness.withRunning(worker) { try await body(harness, worker, fake) }
        }
    }

    @Test func packedRowsGetTheirOwnAnswersWhateverThePackReplyGetsWrong() async throws {
        var behaviour = FakeProviderBehaviour()
        behaviour.packFaultRates = [.dropRow: 0.15, .duplicateRow: 0.15, .swapRows: 0.15, .wrongKey: 0.15, .invalidRow: 0.15]
        let harness = try await EngineHarness()
        let job = try await harness.job(count: 400, spec: spec([("items_per_request", 20), ("batch_size", 100)]))
        try await run(behaviour, harness: harness) { harness, _, fake in
            let done = try await waitForJob(harness.store, job.id) { $0.status.isFinal }
            let items = try await harness.items(job.id)
            #expect(done.status == .completed)
            #expect(done.counts == JobCounts(total: 400, succeeded: 400))
            for item in items {
                #expect(item.output == ["text": .string("item \(item.index)")], "row \(item.index) got another row's answer")
            }
            let counters = fake.counters
            for fault in FakeProviderBehaviour.PackFault.allCases {
                #expect(counters.packFaults[fault, default: 0] > 0, "the fake never did \(fault)")
            }
            #expect(done.calls == counters.succeeded, "the job counts the calls it made")
            #expect(done.calls < 100, "packs of 20 took \(done.calls) calls for 400 rows")
            #expect(items.allSatisfy { $0.attempts == 1 }, "a row the pack failed went again without spending an attempt")
            #expect(done.usage.promptTokens > 0 && done.costMicros > 0)
            #expect(items.reduce(0) { $0 + $1.usage.promptTokens } == done.usage.promptTokens, "shares add up to the calls' tokens")
        }
    }

    @Test func rowsAPackDropsGoAgainInSmallerPacksUntilAnswered() async throws {
        // Every packed reply drops a row: a row is only ever answered alone or in a good pack.
        var behaviour = FakeProviderBehaviour()
        behaviour.packFaultRates = [.dropRow: 1]
        let harness = try await EngineHarness()
        let job = try await harness.job(count: 16, spec: spec([("items_per_request", 8), ("batch_size", 16)]))
        try await run(behaviour, harness: harness) { harness, _, fake in
            let done = try await waitForJob(harness.store, job.id) { $0.status.isFinal }
            #expect(done.counts == JobCounts(total: 16, succeeded: 16))
            let items = try await harness.items(job.id)
            #expect(items.allSatisfy { $0.output == ["text": .string("item \($0.index)")] })
            let repacked = items.filter { $0.packSize != nil }
            #expect(repacked.count >= 2 && repacked.allSatisfy { $0.packSize! < 8 }, "the dropped rows went again in smaller packs")
            #expect(fake.counters.packFaults[.dropRow, default: 0] > 0)
        }
    }

    @Test func anIdenticalRequestIsAnsweredFromTheCacheAndOnlyWhenAllowed() async throws {
        let harness = try await EngineHarness()
        try await run(harness: harness) { harness, _, fake in
            let first = try await harness.job(count: 30, spec: spec())
            _ = try await waitForJob(harness.store, first.id) { $0.status.isFinal }
            let callsBefore = fake.counters.received
            let second = try await harness.job(count: 30, spec: spec())
            let cached = try await waitForJob(harness.store, second.id) { $0.status.isFinal }
            #expect(cached.counts == JobCounts(total: 30, succeeded: 30) && cached.cached == 30 && cached.calls == 0)
            #expect(fake.counters.received == callsBefore, "no call was paid for twice")
            let items = try await harness.items(second.id)
            #expect(items.allSatisfy { $0.cached && $0.output == ["text": .string("item \($0.index)")] })
            let uncached = try await harness.job(count: 30, spec: spec([("cache", false)]))
            let paid = try await waitForJob(harness.store, uncached.id) { $0.status.isFinal }
            #expect(paid.cached == 0 && paid.calls == 30 && fake.counters.received == callsBefore + 30)
            let otherModel = try await harness.job(count: 30, spec: spec([("model", "gpt-other")]))
            let called = try await waitForJob(harness.store, otherModel.id) { $0.status.isFinal }
            #expect(called.cached == 0, "another model is another request")
            let bobs = try await harness.job(count: 30, spec: spec(), owner: "bob")
            let bobPaid = try await waitForJob(harness.store, bobs.id) { $0.status.isFinal }
            #expect(bobPaid.cached == 0 && bobPaid.calls == 30, "one user's answers never answer another's requests")
        }
    }

    @Test func aSharedCacheAnswersEveryUserOnlyWhenConfiguredTo() async throws {
        let harness = try await EngineHarness()
        try await run(harness: harness, cache: CacheSettings(shareAcrossUsers: true)) { harness, _, _ in
            let alices = try await harness.job(count: 10, spec: spec())
            _ = try await waitForJob(harness.store, alices.id) { $0.status.isFinal }
            let bobs = try await harness.job(count: 10, spec: spec(), owner: "bob")
            let shared = try await waitForJob(harness.store, bobs.id) { $0.status.isFinal }
            #expect(shared.cached == 10 && shared.calls == 0)
        }
    }

    @Test func anAnswerGivenInsideAPackNeverAnswersTheRowSentAlone() async throws {
        let harness = try await EngineHarness()
        try await run(harness: harness) { harness, _, _ in
            let packed = try await harness.job(count: 8, spec: spec([("items_per_request", 4)]))
            let done = try await waitForJob(harness.store, packed.id) { $0.status.isFinal }
            #expect(done.counts.succeeded == 8 && done.calls < 8)
            let alone = try await harness.job(count: 8, spec: spec())
            let paid = try await waitForJob(harness.store, alone.id) { $0.status.isFinal }
            #expect(paid.cached == 0 && paid.calls == 8)
            // A row sent alone is kept, and answers a later pack's identical row.
            let packedAgain = try await harness.job(count: 8, spec: spec([("items_per_request", 4)]))
            let reused = try await waitForJob(harness.store, packedAgain.id) { $0.status.isFinal }
            #expect(reused.cached == 8 && reused.calls == 0)
        }
    }

    @Test func anExpiredEntryAnswersNothing() async throws {
        let harness = try await EngineHarness()
        let first = try await harness.job(count: 5, spec: spec())
        try await run(harness: harness) { harness, _, _ in _ = try await waitForJob(harness.store, first.id) { $0.status.isFinal } }
        // The entries are a moment old; a cache that keeps them for less has none to give.
        try await run(harness: harness, cache: CacheSettings(maxAgeSeconds: 0.000_001)) { harness, _, _ in
            let second = try await harness.job(count: 5, spec: spec())
            let paid = try await waitForJob(harness.store, second.id) { $0.status.isFinal }
            #expect(paid.cached == 0 && paid.calls == 5)
        }
    }

    @Test func aTokenBudgetPausesTheJobAndAHigherOneFinishesIt() async throws {
        let harness = try await EngineHarness()
        let job = try await harness.job(count: 200, spec: spec([("budget", ["tokens": 3_000]), ("batch_size", 4), ("cache", false)]))
        try await run(harness: harness, concurrency: 2) { harness, _, fake in
            let paused = try await waitForJob(harness.store, job.id) { $0.status == .paused && $0.counts.running == 0 }
            #expect(paused.statusReason?.contains("budget") == true, "\(paused.statusReason ?? "")")
            #expect(paused.counts.succeeded > 0 && paused.counts.pending > 0)
            let perCall = Double(paused.usage.promptTokens + paused.usage.completionTokens) / Double(paused.calls)
            let spent = paused.usage.promptTokens + paused.usage.completionTokens
            // At most the calls that can be in flight at once (2 slots, 1 prefetched) past the cap.
            #expect(Double(spent) <= 3_000 + 3 * perCall, "spent \(spent) of a 3,000 cap at \(perCall) a call")
            #expect(fake.counters.received == paused.calls)
            let resumed = try await harness.store.resume(jobID: job.id, budget: Budget(tokens: 1_000_000), maxReplyTokens: nil, now: Date())
            #expect(resumed.spec.budget == Budget(tokens: 1_000_000))
            let done = try await waitForJob(harness.store, job.id) { $0.status.isFinal }
            #expect(done.counts == JobCounts(total: 200, succeeded: 200))
        }
    }

    @Test func aWrongModelNamePausesTheJobInsteadOfFailingEveryRow() async throws {
        var behaviour = FakeProviderBehaviour()
        behaviour.fixedError = (404, "The model `gpt-tset` does not exist")
        let harness = try await EngineHarness()
        let job = try await harness.job(count: 500, spec: spec([("failure_brake", ["window": 10, "rate": 0.9])]))
        try await run(behaviour, harness: harness) { harness, _, _ in
            let paused = try await waitForJob(harness.store, job.id) { $0.status == .paused && $0.counts.running == 0 }
            #expect(paused.statusReason?.hasPrefix("failure brake: 10 of the last 10 items failed") == true)
            #expect(paused.statusReason?.contains("does not exist") == true)
            #expect(paused.counts.failed >= 10 && paused.counts.failed < 100, "\(paused.counts.failed) rows spent before the brake held")
            #expect(paused.counts.pending > 400)
        }
    }
}
