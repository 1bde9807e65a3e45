import Foundation
import SluiceCore
import SluiceFakeProvider
import SluiceStore
import SluiceTestSupport
import Testing

/// Three `sluice worker` processes share one database (PostgreSQL when the test script
/// provides one, else a SQLite file) and one provider limit, while one of them is killed with
/// SIGKILL every few seconds and started again.
@Suite(.loadsTheMachine) struct ChaosTests {
    static let items = 5_000
    /// Low enough that the run lasts well over a minute, so minutes of calls can be counted.
    static let requestsPerMinute = 3_000.0

    // A hang guard only: the run takes about two minutes (its pace is the provider's limit).
    @Test(.timeLimit(.minutes(10)))
    func killedWorkersLoseNothingAndTheSharedLimitHolds() async throws {
        var behaviour = FakeProviderBehaviour()
        behaviour.latency = 0.02...0.08
        behaviour.requestsPerMinute = Self.requestsPerMinute
        behaviour.limitWindow = .slidingMinute
        let fake = try await FakeProviderServer(behaviour: behaviour)
        let fixture = try await StoreDriver.available.last!.makeStore()
        let directory = fixture.directory
        let config = directory.write(
            "sluice.yaml",
            """
            providers:
              fake:
                kind: openai
                base_url: \(fake.baseURL)/v1
                api_key_env: FAKE_KEY
                default_model: fake-model
                limits: {rpm: \(Int(Self.requestsPerMinute))}
            """)
        let spec = Fixtures.spec(["template": "{{text}}", "provider": "fake", "model": "fake-model", "max_attempts": 20])
        let job = try await Fixtures.queuedJob(in: fixture.store, count: Self.items, spec: spec, now: Date())

        var workers = try (0..<3).map {
            try WorkerProcess(number: $0, database: fixture.databaseURL, config: config, in: directory, concurrency: 16)
        }
        var kills = 0
        var heldByKilled: Set<String> = []
        var finished: Job?
        while finished == nil {
            // Every four seconds one worker dies without warning and a new one takes its place.
            let deadline = Date().addingTimeInterval(4)
            while Date() < deadline, finished == nil {
                if let current = try await fixture.store.job(id: job.id), current.status.isFinal { finished = current }
                try await Task.sleep(for: .milliseconds(50))
            }
            guard finished == nil else { break }
            let victim = kills % workers.count
            let pid = workers[victim].process.pid
            workers[victim].process.signal(SIGKILL)
            try await workers[victim].process.exited()
            // What the dead worker held: its items may have been called and not recorded.
            for item in try await fixture.store.items(jobID: job.id, status: .running, afterIndex: -1, limit: Self.items)
            where item.leaseOwner?.contains(":\(pid):") == true {
                if case .string(let text)? = item.input["text"] { heldByKilled.insert(text) }
            }
            kills += 1
            workers[victim] = try WorkerProcess(
                number: victim, database: fixture.databaseURL, config: config, in: directory, concurrency: 16)
        }
        for worker in workers {
            try await worker.running()
            worker.process.signal(SIGTERM)
        }
        for worker in workers {
            #expect(try await worker.process.exited() == .exited(0), "SIGTERM stops a worker cleanly")
        }
        let counters = fake.counters
        try await fake.stop()

        let done = try #require(finished)
        #expect(kills >= 10, "the run outlived many kills")
        #expect(done.status == .completed, "\(done.counts) \(done.errors.prefix(3))")
        #expect(done.counts == JobCounts(total: Self.items, succeeded: Self.items))
        let items = try await fixture.store.items(jobID: job.id, status: nil, afterIndex: -1, limit: Self.items + 1)
        #expect(items.count == Self.items)
        #expect(items.allSatisfy { $0.status == .succeeded && $0.output != nil && $0.leaseOwner == nil }, "one final result per item")
        // Calls paid twice: only for items a killed worker held — called, and its answer lost in
        // flight (the fake saw the connection close) or before its outcome was committed.
        let repeated = counters.receivedByPrompt.filter { $0.value > 1 }
        #expect(counters.abandoned > 0)
        #expect(counters.received == Self.items + repeated.values.reduce(0) { $0 + $1 - 1 })
        #expect(repeated.keys.allSatisfy(heldByKilled.contains), "\(repeated.keys.filter { !heldByKilled.contains($0) }.sorted())")
        #expect(counters.rateLimited == 0)
        // Calls per sliding minute, by the second the provider received them.
        let perSecond = counters.acceptedPerSecond.merging(counters.rateLimitedPerSecond, uniquingKeysWith: +)
        let lastSecond = perSecond.keys.max() ?? 0
        #expect(lastSecond >= 60, "the run lasted over a minute")
        let busiestMinute = (0...max(0, lastSecond - 59)).map { start in (start..<start + 60).reduce(0) { $0 + (perSecond[$1] ?? 0) } }
            .max()
        #expect((busiestMinute ?? 0) <= Int(Self.requestsPerMinute), "no minute held more calls than the limit")
    }
}
