import Foundation
import SluiceCore
import SluiceEngine
import SluiceProviders
import SluiceStore
import SluiceTestSupport
import Synchronization
import Testing

@Suite struct WorkerTests {
    @Test func runsEveryItemWithTheBuiltinProvider() async throws {
        let harness = try await EngineHarness()
        let spec: JSONValue = [
            "template": "{{text}}", "batch_size": 7,
            "output_schema": [
                "type": "object", "required": ["sentiment"],
                "properties": ["sentiment": ["type": "string", "enum": ["positive", "neutral", "negative"]]],
            ],
        ]
        let job = try await harness.job(count: 200, spec: spec)
        let done = try await harness.withRunning(harness.worker([BuiltinProvider()])) {
            try await waitForJob(harness.store, job.id) { $0.status.isFinal }
        }
        #expect(done.status == .completed)
        #expect(done.counts == JobCounts(total: 200, succeeded: 200))
        let items = try await harness.items(job.id)
        #expect(
            items.allSatisfy { $0.status == .succeeded && $0.attempts == 1 && $0.model == BuiltinProvider.model && $0.leaseOwner == nil })
        #expect(Set(items.map(\.index)) == Set(0..<200))
    }

    @Test func groupsRunInOrderWithTheirHistory() async throws {
        let harness = try await EngineHarness()
        let provider = ScriptedProvider { request, _ in "re: " + request.messages.last!.content }
        let spec: JSONValue = ["template": "{{text}}", "group_by": "chat", "provider": "scripted", "batch_size": 5]
        let job = try await Fixtures.validatingJob(in: harness.store, spec: Fixtures.spec(spec), owner: "a", now: Date())
        // Three chats of four turns each, interleaved in the input.
        let items = (0..<12).map {
            NewItem(
                index: $0, groupKey: "chat\($0 % 3)",
                input: JSONObject([("chat", .string("chat\($0 % 3)")), ("text", .string("turn \($0)"))]))
        }
        try await harness.store.appendItems(jobID: job.id, owner: Fixtures.ingestor, items: items)
        _ = try await harness.store.finishValidation(jobID: job.id, owner: Fixtures.ingestor, now: Date())
        let done = try await harness.withRunning(harness.worker([provider], concurrency: 3)) {
            try await waitForJob(harness.store, job.id) { $0.status.isFinal }
        }
        #expect(done.status == .completed)
        for chat in 0..<3 {
            let calls = provider.requests.filter { $0.inputs[0]["chat"] == .string("chat\(chat)") }
            let turns = calls.map { $0.messages.last!.content }
            #expect(turns == stride(from: chat, to: 12, by: 3).map { "turn \($0)" }, "chat \(chat) ran in order")
            for (position, call) in calls.enumerated() {
                #expect(call.messages.count == position * 2 + 1, "each call carries every earlier turn")
                if position > 0 {
                    #expect(call.messages[call.messages.count - 2].content == "re: " + turns[position - 1])
                }
            }
        }
    }

    @Test func transientFailuresAreRetriedUntilTheySucceed() async throws {
        let harness = try await EngineHarness()
        let failures = Counter()
        let provider = ScriptedProvider { request, _ throws(ProviderFailure) in
            // Every item fails on its first two attempts.
            if failures.next(key: request.messages.last!.content) < 2 { throw .transient("HTTP 503") }
            return "ok"
        }
        let job = try await harness.job(count: 20, spec: ["template": "{{text}}", "provider": "scripted", "max_attempts": 3])
        let done = try await harness.withRunning(harness.worker([provider])) {
            try await waitForJob(harness.store, job.id) { $0.status.isFinal }
        }
        #expect(done.status == .completed)
        #expect(try await harness.items(job.id).allSatisfy { $0.attempts == 3 && $0.output == "ok" })
        #expect(provider.requests.count == 60)
    }

    @Test func attemptsAreCappedAndTheLastErrorKept() async throws {
        let harness = try await EngineHarness()
        let provider = ScriptedProvider { _, _ throws(ProviderFailure) in throw .transient("connection reset") }
        let job = try await harness.job(count: 3, spec: ["template": "{{text}}", "provider": "scripted", "max_attempts": 2])
        let done = try await harness.withRunning(harness.worker([provider])) {
            try await waitForJob(harness.store, job.id) { $0.status.isFinal }
        }
        #expect(done.status == .failed)
        #expect(done.counts == JobCounts(total: 3, failed: 3))
        let items = try await harness.items(job.id)
        #expect(items.allSatisfy { $0.attempts == 2 && $0.error == "connection reset (after 2 attempts)" && $0.output == nil })
        #expect(done.errors.count == 3)
    }

    @Test func rejectedRequestsFailAtOnce() async throws {
        let harness = try await EngineHarness()
        let provider = ScriptedProvider { _, _ throws(ProviderFailure) in throw .rejected("HTTP 400: unknown model") }
        let job = try await harness.job(count: 2, spec: ["template": "{{text}}", "provider": "scripted"])
        let done = try await harness.withRunning(harness.worker([provider])) {
            try await waitForJob(harness.store, job.id) { $0.status.isFinal }
        }
        #expect(done.status == .failed)
        #expect(try await harness.items(job.id).allSatisfy { $0.attempts == 1 && $0.error == "HTTP 400: unknown model" })
    }

    @Test func anInvalidReplyIsFedBackAndNeverStored() async throws {
        let harness = try await EngineHarness()
        let provider = ScriptedProvider { request, _ in
            // Correct only once told what was wrong.
            request.messages.last!.content.contains("rejected") ? #"{"score": 4}"# : #"{"score": "high"}"#
        }
        let spec: JSONValue = [
            "template": "{{text}}", "provider": "scripted",
            "output_schema": ["type": "object", "required": ["score"], "properties": ["score": ["type": "integer"]]],
        ]
        let job = try await harness.job(count: 5, spec: spec)
        let done = try await harness.withRunning(harness.worker([provider])) {
            try await waitForJob(harness.store, job.id) { $0.status.isFinal }
        }
        #expect(done.status == .completed)
        #expect(try await harness.items(job.id).allSatisfy { $0.output == ["score": 4] && $0.attempts == 2 })
        let corrections = provider.requests.filter { $0.messages.count == 2 }
        #expect(corrections.count == 5)
        #expect(corrections.allSatisfy { $0.messages[1].content.contains("$.score: expected integer, got string") })
    }

    @Test func aReplyThatNeverValidatesFailsWithTheValidationError() async throws {
        let harness = try await EngineHarness()
        let provider = ScriptedProvider { _, _ in "I think it is a 7" }
        let spec: JSONValue = ["template": "{{text}}", "provider": "scripted", "max_attempts": 2, "output_schema": ["type": "integer"]]
        let job = try await harness.job(count: 1, spec: spec)
        let done = try await harness.withRunning(harness.worker([provider])) {
            try await waitForJob(harness.store, job.id) { $0.status.isFinal }
        }
        #expect(done.status == .failed)
        let item = try #require(try await harness.items(job.id).first)
        #expect(item.output == nil)
        #expect(item.error?.hasPrefix("invalid reply: the reply is not valid JSON") == true)
    }

    @Test func refusedCredentialsPauseTheJobInsteadOfFailingItems() async throws {
        let harness = try await EngineHarness()
        let provider = ScriptedProvider { _, _ throws(ProviderFailure) in throw .unauthorized("HTTP 401: invalid api key") }
        let job = try await harness.job(count: 6, spec: ["template": "{{text}}", "provider": "scripted", "batch_size": 6])
        let paused = try await harness.withRunning(harness.worker([provider], concurrency: 1)) {
            try await waitForJob(harness.store, job.id) { $0.status == .paused && $0.counts.running == 0 }
        }
        #expect(paused.statusReason?.contains("HTTP 401: invalid api key") == true)
        #expect(paused.counts == JobCounts(total: 6, pending: 6))
        #expect(provider.requests.count == 1, "no call after the first refusal")
        #expect(try await harness.items(job.id).allSatisfy { $0.attempts == 0 })
    }

    @Test func anUnknownProviderPausesTheJobWithAReason() async throws {
        let harness = try await EngineHarness()
        let job = try await harness.job(count: 2, spec: ["template": "{{text}}", "provider": "nowhere"])
        let paused = try await harness.withRunning(harness.worker([BuiltinProvider()])) {
            try await waitForJob(harness.store, job.id) { $0.status == .paused && $0.counts.running == 0 }
        }
        #expect(paused.statusReason == "provider 'nowhere' is not configured (known: builtin)")
    }

    @Test func packedRequestsAnswerSeveralItemsPerCall() async throws {
        let harness = try await EngineHarness()
        let calls = Counter()
        let builtin = BuiltinProvider()
        let provider = ScriptedProvider { request, _ throws(ProviderFailure) in
            _ = calls.next(key: "all")
            return try await builtin.complete(request).text
        }
        let spec: JSONValue = [
            "template": "{{text}}", "provider": "scripted", "items_per_request": 5, "batch_size": 20,
            "output_schema": ["type": "object", "required": ["summary"], "properties": ["summary": ["type": "string"]]],
        ]
        let job = try await harness.job(count: 40, spec: spec)
        let done = try await harness.withRunning(harness.worker([provider])) {
            try await waitForJob(harness.store, job.id) { $0.status.isFinal }
        }
        #expect(done.counts == JobCounts(total: 40, succeeded: 40))
        #expect(provider.requests.count == 8)
        #expect(provider.requests.allSatisfy { $0.isPacked && $0.inputs.count == 5 })
        let items = try await harness.items(job.id)
        #expect(items.allSatisfy { $0.output?["summary"] == .string($0.input["text"]!.stringValue!) })
    }
}

extension WorkerTests {
    @Test func aHungCallHoldsOnlyItsOwnSlotWhileTheRestOfItsClaimIsRecorded() async throws {
        let harness = try await EngineHarness()
        let release = Latch()
        let provider = ScriptedProvider { request, _ in
            if request.messages.last!.content == "item 0" { await release.wait() }
            return "ok"
        }
        // One claim could take all 40 (batch_size), but a call that never ends must not hold them.
        let job = try await harness.job(count: 40, spec: ["template": "{{text}}", "provider": "scripted", "batch_size": 40])
        let (whileHung, done) = try await harness.withRunning(harness.worker([provider], concurrency: 4)) {
            let whileHung = try await waitForJob(harness.store, job.id) { $0.counts.succeeded == 39 }
            release.open()
            return (whileHung, try await waitForJob(harness.store, job.id) { $0.status.isFinal })
        }
        #expect(whileHung.counts == JobCounts(total: 40, running: 1, succeeded: 39), "every other item recorded while it hung")
        #expect(done.counts == JobCounts(total: 40, succeeded: 40))
        #expect(provider.requests.count == 40)
    }

    @Test func aClaimTakesNoMoreThanTheFreeSlotsPlusPrefetch() async throws {
        let harness = try await EngineHarness()
        let provider = GatedProvider()
        let job = try await harness.job(count: 100, spec: ["template": "{{text}}", "provider": "gated", "batch_size": 100])
        let configuration = EngineHarness.configuration(concurrency: 4)
        let held = try await harness.withRunning(harness.worker([provider], concurrency: 4)) {
            await provider.waitForStarts(4)
            let held = try #require(try await harness.store.job(id: job.id)).counts
            provider.open()
            _ = try await waitForJob(harness.store, job.id) { $0.status.isFinal }
            return held
        }
        #expect(configuration.prefetch == 1)
        #expect(held.running == 5, "4 calls in flight plus 1 prefetched, not the batch of 100")
        #expect(held.pending == 95)
    }

    /// At 60 requests a minute a worker can start one call a second: it holds that much ahead
    /// (plus the call in flight), not its 16 slots and prefetch — so a second user's job,
    /// submitted while the first user's runs, is claimed next and called a second later. The
    /// limiter's pace runs on a manual clock: the test moves time, nothing waits for it.
    @Test func aRateLimitedProviderIsClaimedNoFurtherAheadThanItStartsInASecond() async throws {
        let harness = try await EngineHarness()
        let provider = GatedProvider()
        let clock = ManualClock()
        let big = try await harness.job(count: 100, spec: ["template": "{{text}}", "provider": "gated", "batch_size": 100])
        let worker = Worker(
            store: harness.store,
            providers: ProviderRegistry(entries: [
                ProviderEntry(provider, limits: RateLimits(requestsPerMinute: 60), breaker: .init(failureThreshold: .max))
            ]),
            configuration: EngineHarness.configuration(concurrency: 16), clock: clock)
        let (held, second, prompts) = try await harness.withRunning(worker) {
            // The first call goes out at once; the second is claimed and booked a second later.
            await provider.waitForStarts(1)
            let held = try await waitForJob(harness.store, big.id) { $0.counts.running == 2 }.counts
            let small = try await harness.job(count: 2, spec: ["template": "second {{text}}", "provider": "gated"], owner: "bob")
            clock.advance(by: 1.1)
            await provider.waitForStarts(2)
            // With the second call gone out, the next claim is the second user's.
            _ = try await waitForJob(harness.store, small.id) { $0.counts.running == 1 }
            let second = try #require(try await harness.store.job(id: big.id)).counts
            clock.advance(by: 1.1)
            await provider.waitForStarts(3)
            let prompts = provider.prompts
            _ = try await harness.store.cancel(jobID: big.id, now: Date())
            _ = try await harness.store.cancel(jobID: small.id, now: Date())
            provider.open()
            return (held, second, prompts)
        }
        #expect(held.running == 2, "one call in flight and one booked, not 16 slots and 4 prefetched")
        #expect(second.running == 2, "nothing more of the first user's claimed while the second user's call waits its turn")
        #expect(prompts == ["item 0", "item 1", "second item 0"], "the second user's first call is the next to go out")
    }

    @Test func aWorkerStartingOnThisMachineTakesBackADeadPredecessorsItemsAtOnce() async throws {
        let harness = try await EngineHarness()
        let job = try await harness.job(count: 10, spec: ["template": "{{text}}", "batch_size": 10])
        let host = WorkerIdentity.thisMachine
        // A process id that exists on no machine (above the kernel's pid_max).
        let dead = WorkerIdentity(host: host, pid: 9_999_999).description + ":1"
        let elsewhere = WorkerIdentity(host: "another-host", pid: 9_999_999).description + ":1"
        // Same host name, another container: its pids are not this namespace's to judge.
        let container = WorkerIdentity(host: ProcessInfo.processInfo.hostName + "/other-ns", pid: 9_999_999).description + ":1"
        let mine = try #require(try await harness.store.claim(owner: dead, limit: 6, leaseDuration: 3_600, now: Date()))
        let theirs = try #require(try await harness.store.claim(owner: elsewhere, limit: 2, leaseDuration: 3_600, now: Date()))
        let beside = try #require(try await harness.store.claim(owner: container, limit: 2, leaseDuration: 3_600, now: Date()))
        #expect(mine.items.count == 6 && theirs.items.count == 2 && beside.items.count == 2)
        var configuration = EngineHarness.configuration()
        configuration.workerID = WorkerIdentity(host: host, pid: ProcessInfo.processInfo.processIdentifier).description + ":2"
        let worker = Worker(store: harness.store, providers: ProviderRegistry([BuiltinProvider()]), configuration: configuration)
        let progressed = try await harness.withRunning(worker) {
            try await waitForJob(harness.store, job.id) { $0.counts.succeeded == 6 }
        }
        #expect(progressed.counts == JobCounts(total: 10, running: 4, succeeded: 6), "another machine's leases wait for expiry")
        let items = try await harness.items(job.id)
        #expect(items.filter { $0.leaseOwner == elsewhere }.count == 2 && items.filter { $0.leaseOwner == container }.count == 2)
        #expect(WorkerIdentity.thisMachine.hasPrefix(ProcessInfo.processInfo.hostName + "/"))
        #expect(items.filter { $0.status == .succeeded }.allSatisfy { $0.attempts == 2 }, "the dead worker's attempt stays counted")
    }

    @Test func workerIdentitiesReadBackFromLeaseOwners() {
        #expect(WorkerIdentity(owner: "box:42:123") == WorkerIdentity(host: "box", pid: 42))
        #expect(WorkerIdentity(owner: "fe80::1:42:123") == WorkerIdentity(host: "fe80::1", pid: 42))
        #expect(WorkerIdentity(owner: "test-worker") == nil)
        #expect(WorkerIdentity(owner: "box:nan:1") == nil)
        #expect(WorkerIdentity(owner: EngineConfiguration.defaultWorkerID()).map(\.pid) == ProcessInfo.processInfo.processIdentifier)
    }
}

/// Counts calls per key, safely across tasks.
final class Counter: Sendable {
    let counts = Mutex<[String: Int]>([:])

    /// Returns how many times `key` was seen before.
    func next(key: String) -> Int {
        counts.withLock { counts in
            defer { counts[key, default: 0] += 1 }
            return counts[key, default: 0]
        }
    }
}
