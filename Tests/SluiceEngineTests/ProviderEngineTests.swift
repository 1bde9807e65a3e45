import Foundation
import SluiceCore
import SluiceFakeProvider
import SluiceProviders
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceEngine

/// Whole jobs through the HTTP providers and the fake over loopback: faults, refused keys,
/// limits. Assertions are about counts and states, never about timings.
@Suite(.loadsTheMachine) struct ProviderEngineTests {
    let schemaSpec: JSONValue = [
        "template": "Rate: {{text}}", "provider": "openai", "model": "gpt-test", "batch_size": 20,
        "output_schema": [
            "type": "object", "required": ["score"], "properties": ["score": ["type": "integer", "minimum": 1, "maximum": 10]],
        ],
    ]

    func run(
        items: Int, spec: JSONValue, behaviour: FakeProviderBehaviour, limits: RateLimits = RateLimits(), timeout: Double = 10,
        key: String? = "sk-test", breaker: CircuitBreaker.Configuration = .init(), strictSchemas: Bool = true,
        prices: ModelPrices = ModelPrices(), until condition: @escaping (Job) -> Bool = { $0.status.isFinal }
    ) async throws -> (Job, [Item], FakeProviderCounters) {
        let harness = try await EngineHarness()
        let job = try await harness.job(count: items, spec: spec)
        return try await withFakeProvider(behaviour) { fake, http in
            let provider = OpenAICompatibleProvider(
                name: "openai", endpoint: ProviderEndpoint(baseURL: fake.baseURL + "/v1", apiKey: key, timeoutSeconds: timeout, http: http),
                strictSchemas: strictSchemas)
            let registry = ProviderRegistry(entries: [ProviderEntry(provider, limits: limits, breaker: breaker)], prices: prices)
            let worker = Worker(store: harness.store, providers: registry, configuration: EngineHarness.configuration(concurrency: 16))
            let done = try await harness.withRunning(worker) { try await waitForJob(harness.store, job.id, until: condition) }
            return (done, try await harness.items(job.id), fake.counters)
        }
    }

    @Test func aKeyPoolSpreadsCallsOverItsKeysEachWithItsOwnGate() async throws {
        let harness = try await EngineHarness()
        let job = try await harness.job(count: 60, spec: ["template": "Rate: {{text}}", "provider": "openai", "model": "gpt-test"])
        var behaviour = FakeProviderBehaviour()
        behaviour.latency = 0.002...0.004
        // The fake's headers state a lower limit than the configuration's.
        behaviour.requestsPerMinute = 3_000
        try await withFakeProvider(behaviour) { fake, http in
            let document: JSONValue = [
                "providers": [
                    "openai": [
                        "kind": "openai", "base_url": .string(fake.baseURL + "/v1"), "api_key_envs": ["KEY_A", "KEY_B", "KEY_UNSET"],
                        "limits": ["rpm": 6_000],
                    ]
                ]
            ]
            let configuration = try SluiceConfiguration.parse(document, environment: ["KEY_A": "sk-a", "KEY_B": "sk-b"])
            let registry = try ProviderCatalog.registry(for: configuration, http: http)
            #expect(registry.pools == ["openai": ["openai#1", "openai#2"]], "the unset variable is left out")
            #expect(registry["openai#2"]?.limits.requestsPerMinute == 6_000, "each key has the provider's limits as its own")
            var engine = EngineHarness.configuration(concurrency: 8)
            engine.readings = harness.store.readings
            engine.heartbeatInterval = 0.05
            let worker = Worker(store: harness.store, providers: registry, configuration: engine)
            let (done, readings) = try await harness.withRunning(worker) {
                let done = try await waitForJob(harness.store, job.id, until: { $0.status.isFinal })
                // Each key's gate reports what the headers taught it, for the team view.
                try await waitUntil("both keys to report the limit their headers state") {
                    try await harness.store.readings.readings(since: .distantPast).filter { $0.limits.source == .reported }.count == 2
                }
                return (done, try await harness.store.readings.readings(since: .distantPast).filter { $0.provider != "builtin" })
            }
            #expect(done.status == .completed && done.counts.succeeded == 60)
            #expect(
                readings.map(\.provider) == ["openai#1", "openai#2"] && readings.allSatisfy { $0.worker == "test-worker" }, "\(readings)")
            #expect(
                readings.allSatisfy { $0.limits.requestsPerMinute.map { abs($0 - 3_000 * 0.99) < 1e-6 } == true }, "\(readings)")
            #expect(try await harness.store.readings.readings(since: .distantPast).isEmpty, "a drained worker's readings go with it")
            let keys = fake.recentRequests.compactMap { $0.headers["authorization"] }
            let a = keys.filter { $0 == "Bearer sk-a" }.count
            let b = keys.filter { $0 == "Bearer sk-b" }.count
            #expect(a + b == keys.count && a >= keys.count / 4 && b >= keys.count / 4, "both keys carry calls: \(a) and \(b)")
            // The ledger counts the pool's calls as the provider's.
            let usage = try await harness.store.usage.usage(user: nil, from: "2000-01-01", through: "2100-01-01")
            #expect(Set(usage.map(\.provider)) == ["openai"] && usage.reduce(0) { $0 + $1.calls } == Int64(done.calls))
        }
    }

    @Test(arguments: [
        ProviderFailure.transient("HTTP 503: the provider failed"),
        .rejected("This model's maximum context length is 8192 tokens; your messages resulted in 9000 tokens"),
    ])
    func aProviderThatCannotAnswerHandsItsCallsToItsFallback(failure: ProviderFailure) async throws {
        let harness = try await EngineHarness()
        let job = try await harness.job(count: 30, spec: ["template": "{{text}}", "provider": "down", "model": "big", "max_attempts": 1])
        let down = ScriptedProvider(name: "down") { _, _ throws(ProviderFailure) in throw failure }
        let backup = ScriptedProvider(name: "backup") { _, _ throws(ProviderFailure) in "fine" }
        var primary = ProviderEntry(down, breaker: .init(failureThreshold: 3, coolDown: 600))
        primary.fallbacks = ["backup"]
        primary.fallbackAfterSeconds = 0
        let registry = ProviderRegistry(entries: [primary, ProviderEntry(backup, defaultModel: "backup-model")])
        let worker = Worker(store: harness.store, providers: registry, configuration: EngineHarness.configuration(concurrency: 4))
        let done = try await harness.withRunning(worker) { try await waitForJob(harness.store, job.id, until: { $0.status.isFinal }) }
        let items = try await harness.items(job.id)
        #expect(done.status == .completed && done.counts.succeeded == 30, "\(items.compactMap(\.error))")
        #expect(backup.requests.count == 30 && backup.requests.allSatisfy { $0.model == "backup-model" }, "the fallback's own model")
        // Each result records who answered, in the items and in the ledger.
        #expect(items.allSatisfy { $0.model == "scripted-1" })
        let usage = try await harness.store.usage.usage(user: nil, from: "2000-01-01", through: "2100-01-01")
        #expect(Set(usage.filter { $0.calls > 0 && $0.promptTokens > 0 }.map(\.provider)) == ["backup"])
        if case .transient = failure {
            // Once its circuit opened, calls went to the fallback without trying it first.
            #expect(down.requests.count < 30, "\(down.requests.count) calls to the provider that was down")
        }
    }

    @Test func twoThousandItemsSurviveServerErrorsHangsAndBrokenReplies() async throws {
        var behaviour = FakeProviderBehaviour()
        behaviour.latency = 0...0.005
        behaviour.faultRates = [.internalError: 0.05, .hang: 0.01, .malformedBody: 0.01]
        // Hangs end by the client's timeout: long enough (5 s against calls of 5 ms) that only a
        // hang meets it, however loaded the machine; and should an ordinary call meet it too,
        // items have twice the default attempts.
        let spec = JSONValue.object(schemaSpec.objectValue!.with("max_attempts", 10))
        let (job, items, counters) = try await run(items: 2_000, spec: spec, behaviour: behaviour, timeout: 5)
        #expect(job.status == .completed, "\(items.filter { $0.status != .succeeded }.map { "\($0.attempts): \($0.error ?? "")" })")
        #expect(job.counts == JobCounts(total: 2_000, succeeded: 2_000))
        #expect(Set(items.map(\.index)) == Set(0..<2_000), "none lost, none duplicated")
        #expect(items.allSatisfy { $0.status == .succeeded && $0.output?["score"]?.intValue != nil })
        #expect(counters.faults[.internalError, default: 0] > 0 && counters.faults[.hang, default: 0] > 0)
        #expect(counters.faults[.malformedBody, default: 0] > 0)
        let faults = counters.faults.values.reduce(0, +)
        #expect(counters.accepted >= 2_000 + faults, "every fault cost a retry")
        // A hung call is retried, or raced by a hedge that answers instead; both are calls.
        #expect(job.calls >= 2_000 + faults, "every fault cost a call")
        #expect(job.calls >= items.reduce(0) { $0 + $1.attempts })
        #expect(job.usage.promptTokens > 0)
    }

    /// A model reading the schema from the prompt alone breaks it now and then, and each broken
    /// answer costs a repair call; the same model made to keep it (a strict schema) costs none.
    @Test(arguments: [true, false])
    func strictSchemasSpareTheRepairCallsOfAModelThatReadsTheSchemaFromThePrompt(strict: Bool) async throws {
        var behaviour = FakeProviderBehaviour()
        behaviour.schemaBreakRate = 0.2
        // A broken answer is repaired by another attempt; ten make running out of them negligible.
        let spec = JSONValue.object(schemaSpec.objectValue!.with("max_attempts", 10))
        let (job, items, counters) = try await run(items: 200, spec: spec, behaviour: behaviour, strictSchemas: strict)
        #expect(job.counts == JobCounts(total: 200, succeeded: 200), "\(items.compactMap(\.error).prefix(3))")
        if strict {
            #expect(counters.strictSchemaRequests == counters.received && counters.schemaBreaks == 0)
            #expect(counters.succeeded == 200, "no repair call")
        } else {
            #expect(counters.strictSchemaRequests == 0 && counters.schemaBreaks > 0)
            #expect(counters.succeeded == 200 + counters.schemaBreaks, "each broken answer cost one repair call")
        }
    }

    /// A job whose rows share a long system prompt: after the first call writes the prefix to
    /// the provider's cache, the others read it, and the job's usage says how much.
    /// Packed calls too: each pack names its rows only after the shared prefix.
    @Test(arguments: [1, 5])
    func aSharedPrefixIsReadFromTheCacheAndTheJobCountsIt(rowsPerCall: Int) async throws {
        let spec = JSONValue.object(
            schemaSpec.objectValue!.with("system", .string(String(repeating: "Rules every row shares. ", count: 200)))
                .with("items_per_request", .int(rowsPerCall)))
        let (job, items, counters) = try await run(items: 50, spec: spec, behaviour: FakeProviderBehaviour())
        #expect(job.counts == JobCounts(total: 50, succeeded: 50))
        #expect(job.usage.cachedTokens > 0 && job.usage.cachedTokens < job.usage.promptTokens, "\(job.usage)")
        #expect(job.usage.cachedTokens == items.reduce(0) { $0 + $1.usage.cachedTokens }, "the job sums its items")
        #expect(items.allSatisfy { $0.finishReason == "stop" })
        #expect(counters.received == 50 / rowsPerCall)
    }

    /// A reasoning model given too small a limit thinks until it and says nothing: each row is
    /// asked again with double the limit, without spending an attempt (one is all it has).
    @Test func aReplyCutEmptyAtItsLimitIsAskedAgainWithDoubleTheLimit() async throws {
        var behaviour = FakeProviderBehaviour()
        behaviour.reasoningTokens = 1_500
        let spec = JSONValue.object(
            schemaSpec.objectValue!.with("max_attempts", 1).with("params", ["max_completion_tokens": 500, "reasoning_effort": "high"]))
        let (job, items, counters) = try await run(items: 20, spec: spec, behaviour: behaviour)
        #expect(job.counts == JobCounts(total: 20, succeeded: 20), "\(items.compactMap(\.error).prefix(3))")
        #expect(counters.received == 60, "500 and 1,000 cut; 2,000 answered")
        #expect(job.calls == 60 && items.allSatisfy { $0.attempts == 1 && $0.replyTokens == 2_000 && $0.finishReason == "stop" })
        #expect(job.usage.reasoningTokens == 20 * (500 + 1_000 + 1_500), "the cut calls' reasoning is counted too")
    }

    /// Replies that still come back empty at the job's cap pause it with the reason, rows kept
    /// pending, instead of failing them one by one after paying for the cap each time.
    @Test func repliesCutEmptyAtTheCapPauseTheJob() async throws {
        var behaviour = FakeProviderBehaviour()
        behaviour.reasoningTokens = 5_000
        let spec = JSONValue.object(
            schemaSpec.objectValue!.with("max_reply_tokens", 2_000).with("params", ["max_tokens": 500]).with("batch_size", 1))
        let (job, items, _) = try await run(
            items: 5, spec: spec, behaviour: behaviour, until: { $0.status == .paused && $0.counts.running == 0 })
        #expect(job.statusReason?.contains("max_reply_tokens (2000) allows no more") == true, "\(job.statusReason ?? "")")
        #expect(job.counts.failed == 0 && job.counts.pending == 5)
        #expect(items.allSatisfy { $0.attempts == 0 }, "no attempt spent")
        #expect(items.contains { $0.replyTokens == 2_000 })
    }

    /// A flex job asks for the flex tier; the tier's "no capacity" refusals go back for later
    /// without spending an attempt (one is all each row has) or tripping the breaker, and the
    /// calls the provider says it served at flex are priced at the flex rate.
    @Test func aFlexJobRidesOutResourceUnavailableAndIsPricedAtTheFlexRate() async throws {
        var behaviour = FakeProviderBehaviour()
        behaviour.flexUnavailableRate = 0.3
        let spec = JSONValue.object(schemaSpec.objectValue!.with("max_attempts", 1).with("tier", "flex"))
        let prices = ModelPrices([ModelPrices.Price(pattern: "gpt-*", inputPerMillion: 1, outputPerMillion: 4, flexPriceFactor: 0.5)])
        let (job, items, counters) = try await run(
            items: 100, spec: spec, behaviour: behaviour, breaker: CircuitBreaker.Configuration(failureThreshold: 3), prices: prices)
        #expect(job.counts == JobCounts(total: 100, succeeded: 100), "\(items.compactMap(\.error).prefix(3))")
        #expect(counters.flexRequests == counters.received && counters.flexUnavailable > 0)
        #expect(job.calls == counters.received && job.flexCalls == 100, "every request a call; 100 served at flex")
        #expect(items.allSatisfy { $0.attempts == 1 })
        let list = prices.listCostMicros(model: "gpt-test", usage: job.usage)
        // Each call is priced (and rounded) on its own: half its list price, within a micro-dollar.
        #expect(job.listCostMicros == list && abs(job.costMicros * 2 - list) <= 100, "\(job.costMicros) of \(list)")
    }

    @Test func aRefusedKeyPausesTheJob() async throws {
        var behaviour = FakeProviderBehaviour()
        behaviour.requiredKey = "sk-right"
        let (job, items, counters) = try await run(
            items: 50, spec: schemaSpec, behaviour: behaviour, key: "sk-wrong", until: { $0.status == .paused && $0.counts.running == 0 })
        #expect(job.statusReason?.contains("HTTP 401") == true)
        #expect(job.statusReason?.contains("sk-wrong") == false)
        #expect(job.counts.pending == 50)
        #expect(items.allSatisfy { $0.attempts == 0 })
        #expect(counters.unauthorized <= 16, "at most the calls already in flight")
    }

    @Test func aPerSecondLimitIsNeverExceeded() async throws {
        // A minute's 3,000 calls paced over the minute, not sent as they fit the minute: the
        // provider takes 100 a second, twice the pace, so only a limiter that bursts meets its
        // limit — not calls that a loaded machine sends a little late, and then a few together.
        var behaviour = FakeProviderBehaviour()
        behaviour.requestsPerMinute = 6_000
        behaviour.limitWindow = .perSecond
        behaviour.sendsLimitHeaders = false
        let (job, _, counters) = try await run(
            items: 150, spec: schemaSpec, behaviour: behaviour, limits: RateLimits(requestsPerMinute: 3_000))
        #expect(job.status == .completed)
        #expect(counters.rateLimited == 0)
        #expect(counters.acceptedPerSecond.values.allSatisfy { $0 <= 100 })
    }

    @Test func workersSharingALimitStayUnderItTogether() async throws {
        var behaviour = FakeProviderBehaviour()
        behaviour.requestsPerMinute = 2_700
        behaviour.limitWindow = .perSecond
        behaviour.sendsLimitHeaders = false
        let harness = try await EngineHarness()
        let job = try await harness.job(count: 300, spec: schemaSpec)
        // Each worker alone may send 25 a second; the two together must too. Two workers not
        // sharing would send 50, over the provider's 45; sharing, the 20 to spare absorb calls
        // that a loaded machine sends late and then together (a margin of 10 once saw a 429).
        let limits = RateLimits(requestsPerMinute: 1_500)
        let counters = try await withFakeProvider(behaviour) { fake, http in
            let provider = OpenAICompatibleProvider(
                name: "openai", endpoint: ProviderEndpoint(baseURL: fake.baseURL + "/v1", apiKey: "k", timeoutSeconds: 10, http: http))
            let registry = ProviderRegistry(entries: [ProviderEntry(provider, limits: limits)])
            let workers = ["first", "second"].map { id in
                var configuration = EngineHarness.configuration(concurrency: 16)
                configuration.workerID = id
                configuration.sharedPace = harness.fixture.store.pace
                return Worker(store: harness.store, providers: registry, configuration: configuration)
            }
            _ = try await harness.withRunning(workers[0]) {
                try await harness.withRunning(workers[1]) { try await waitForJob(harness.store, job.id) { $0.status.isFinal } }
            }
            return fake.counters
        }
        let done = try #require(try await harness.store.job(id: job.id))
        #expect(done.counts == JobCounts(total: 300, succeeded: 300))
        #expect(counters.rateLimited == 0)
        #expect(counters.acceptedPerSecond.values.allSatisfy { $0 <= 45 }, "\(counters.acceptedPerSecond)")
    }

    @Test func throttledItemsWaitWithoutSpendingAttempts() async throws {
        var behaviour = FakeProviderBehaviour()
        behaviour.requestsPerMinute = 120
        behaviour.limitWindow = .perSecond
        behaviour.sendsLimitHeaders = false
        // Configured at twenty times the real limit of 2 a second: the first 16 calls start
        // together, within 0.4 s at the configured pace, so at least 8 fall in one second and
        // 429s come however slowly the store (or a loaded machine) records — and are absorbed.
        let (job, items, counters) = try await run(
            items: 30, spec: schemaSpec, behaviour: behaviour, limits: RateLimits(requestsPerMinute: 2_400))
        #expect(job.status == .completed)
        #expect(counters.rateLimited > 0)
        #expect(items.allSatisfy { $0.attempts == 1 }, "a 429 does not spend an attempt")
    }

    @Test func theCircuitOpensWhileTheProviderIsDownAndClosesAfterAProbe() async throws {
        var behaviour = FakeProviderBehaviour()
        behaviour.faultRates = [.unavailable: 1]
        let fake = try await FakeProviderServer(behaviour: behaviour)
        let http = ProviderHTTPClient()
        let clock = ManualClock()
        let provider = OpenAICompatibleProvider(
            name: "openai", endpoint: ProviderEndpoint(baseURL: fake.baseURL + "/v1", apiKey: "k", http: http))
        let gate = ProviderGate(entry: ProviderEntry(provider, breaker: .init(failureThreshold: 2, coolDown: 30)), clock: clock)
        let request = ModelRequest(
            model: "m", system: nil, messages: [ChatMessage(role: .user, content: "hi")], params: JSONObject(), outputSchema: nil,
            inputs: [])

        func call() async -> Bool {
            guard let permit = await gate.acquire(promptTokens: 1, maxReplyTokens: 0) else { return false }
            do throws(ProviderFailure) {
                let reply = try await provider.complete(request)
                await gate.complete(permit, outcome: .succeeded(usedTokens: nil, replyTokens: nil), signal: reply.signal, healthy: true)
                return true
            } catch {
                await gate.complete(permit, outcome: .failed, signal: nil, healthy: false)
                return false
            }
        }

        #expect(await call() == false)
        #expect(await call() == false)
        #expect(await gate.breaker.state == .open(until: clock.now().addingTimeInterval(30)))
        // While open, a caller waits on the clock and makes no call.
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { await call() }
            while clock.sleeperCount == 0 { await Task.yield() }
            #expect(fake.counters.received == 2)
            fake.update { $0.faultRates = [:] }
            clock.advance(by: 30)
            #expect(await group.next() == true, "the probe succeeds")
        }
        #expect(await gate.breaker.state == .closed(consecutiveFailures: 0))
        #expect(fake.counters.received == 3)
        try await http.shutdown()
        try await fake.stop()
    }

    /// A call overdue (here: past a second on a manual clock) is raced by one identical call;
    /// the first reply wins and both count as calls; a hedge that fails gives up on the hung
    /// call too (its item is retried). A call that answers or fails before then is never
    /// doubled. The hung call is the fake's, over loopback: cancelling it must not wait for an
    /// answer that never comes.
    @Test(arguments: [
        [FakeProviderBehaviour.Fault.hang], [.hang, .internalError], [], [.internalError],
    ])
    func anOverdueCallIsRacedByOneHedge(faults: [FakeProviderBehaviour.Fault]) async throws {
        let harness = try await EngineHarness()
        var behaviour = FakeProviderBehaviour()
        behaviour.scriptedFaults = faults
        try await withFakeProvider(behaviour) { fake, http in
            let provider = OpenAICompatibleProvider(
                name: "openai", endpoint: ProviderEndpoint(baseURL: fake.baseURL + "/v1", apiKey: "k", http: http))
            let clock = ManualClock()
            let gate = ProviderGate(entry: ProviderEntry(provider), clock: clock)
            let runner = ItemRunner(
                store: harness.store, clock: clock, backoff: RetryBackoff(), prices: ModelPrices(), metrics: .none, cache: CacheSettings(),
                files: JobFiles(storage: nil, claimBudget: .max))
            let request = ModelRequest(
                model: "m", system: nil, messages: [ChatMessage(role: .user, content: "hi")], params: JSONObject(), outputSchema: nil,
                inputs: [])
            let answer = Task { await runner.complete(request, provider: provider, gate: gate, hedgeAfter: 1, stop: nil) }
            if faults.first == .hang {
                // The first call is in (and hangs); the hedge sleeps on the clock until it is overdue.
                while fake.counters.received == 0 || clock.sleeperCount == 0 { await Task.yield() }
                clock.advance(by: 1)
            }
            let (result, calls) = await answer.value
            switch faults {
            case [.hang]:
                #expect((try? result.get()) != nil, "the hedge answered")
                #expect(calls == 2 && fake.counters.received == 2 && fake.counters.faults[.hang] == 1)
            case [.hang, .internalError]:
                #expect((try? result.get()) == nil, "the hedge's failure is the answer: the item is retried")
                #expect(calls == 2 && fake.counters.received == 2)
            case [.internalError]:
                #expect((try? result.get()) == nil, "the failure is the answer")
                #expect(calls == 1 && fake.counters.received == 1, "a failure before the hedge is due is not doubled")
            default:
                #expect((try? result.get()) != nil)
                #expect(calls == 1 && fake.counters.received == 1, "an answer before the hedge is due is not doubled")
            }
        }
    }

    @Test func theInFlightCapHandsAFreedSlotToOneWaiterAndACancelledWaiterLeaves() async throws {
        let entry = ProviderEntry(ScriptedProvider { _, _ in "ok" }, limits: RateLimits(maxInFlight: 1))
        let gate = ProviderGate(entry: entry, clock: ManualClock())
        let first = try #require(await gate.acquire(promptTokens: 1, maxReplyTokens: 0))
        // A waiter whose task is cancelled gets nothing and holds nothing.
        let abandoned = Task { await gate.acquire(promptTokens: 1, maxReplyTokens: 0) }
        abandoned.cancel()
        #expect(await abandoned.value == nil)
        let waiting = Task { await gate.acquire(promptTokens: 1, maxReplyTokens: 0) }
        await gate.complete(first, outcome: .succeeded(usedTokens: nil, replyTokens: nil), signal: nil, healthy: true)
        let second = await waiting.value
        #expect(second != nil, "the freed slot went to the waiter, not to the cancelled one")
    }

    @Test func overdueCallsLendTheirSlotsOnceAndNoMoreThanTheLimit() {
        let running = RunningCalls()
        let lent = Counter()
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let ids = (0..<3).map { index in
            running.start(deadline: t0.addingTimeInterval(Double(index))) { _ = lent.next(key: "lent") }
        }
        running.sweep(now: t0.addingTimeInterval(5), limit: 2)
        #expect(lent.next(key: "lent") == 2, "two of three overdue calls lent, the limit")
        #expect(running.end(ids[0]) && running.end(ids[1]), "the lent ones know it when they end")
        running.sweep(now: t0.addingTimeInterval(5), limit: 2)
        #expect(lent.next(key: "lent") == 4, "a lent slot coming back makes room for the third")
        #expect(running.end(ids[2]))
        let onTime = running.start(deadline: t0.addingTimeInterval(10)) { _ = lent.next(key: "lent") }
        running.sweep(now: t0.addingTimeInterval(9), limit: 2)
        #expect(!running.end(onTime), "a call that ends in time keeps its slot")
    }
}
