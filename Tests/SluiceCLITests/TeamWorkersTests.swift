import Foundation
import SluiceCore
import SluiceFakeProvider
import SluiceStore
import SluiceTestSupport
import Testing

/// A team's controls through two `sluice worker` processes on one database (PostgreSQL when the
/// test script provides one): key weights, a key's quota and a fallback provider hold across
/// processes, because their rules are in the claim's and the record's statements.
@Suite(.loadsTheMachine) struct TeamWorkersTests {
    static let rows = 240
    static let concurrency = 8

    // A hang guard only: the run is paced by the fallback's limit (about half a minute).
    @Test(.timeLimit(.minutes(10)))
    func weightsQuotasAndFallbacksHoldAcrossWorkerProcesses() async throws {
        var down = FakeProviderBehaviour()
        down.fixedError = (503, "the provider is down")
        let primary = try await FakeProviderServer(behaviour: down)
        var up = FakeProviderBehaviour()
        up.latency = 0.01...0.03
        up.requestsPerMinute = 1_800
        let backup = try await FakeProviderServer(behaviour: up)
        let fixture = try await StoreDriver.available.last!.makeStore()
        let directory = fixture.directory
        let config = directory.write(
            "sluice.yaml",
            """
            providers:
              main:
                kind: openai
                base_url: \(primary.baseURL)/v1
                api_key_env: FAKE_KEY
                default_model: main-model
                fallbacks: [backup]
                fallback_after_seconds: 1
              backup:
                kind: openai
                base_url: \(backup.baseURL)/v1
                api_key_env: FAKE_KEY
                default_model: backup-model
                limits: {rpm: 1800}
            """)
        let now = Date()
        let quota = Int64(Self.quotaTokens)
        for key in [
            APIKeyRecord(id: "light", user: "alice", isAdmin: false, hash: "h-light", prefix: "sk-light", createdAt: now),
            APIKeyRecord(id: "heavy", user: "bob", isAdmin: false, hash: "h-heavy", prefix: "sk-heavy", createdAt: now, weight: 3),
            APIKeyRecord(
                id: "capped", user: "carol", isAdmin: false, hash: "h-capped", prefix: "sk-capped", createdAt: now,
                quota: KeyQuota(tokensPerDay: quota)),
        ] {
            try await fixture.store.keys.createKey(key)
        }
        let spec = Fixtures.spec(["template": "{{text}}", "provider": "main", "model": "main-model", "max_attempts": 5])
        let light = try await Fixtures.queuedJob(in: fixture.store, count: Self.rows, spec: spec, owner: "alice", keyID: "light", now: now)
        let heavy = try await Fixtures.queuedJob(in: fixture.store, count: Self.rows, spec: spec, owner: "bob", keyID: "heavy", now: now)
        let capped = try await Fixtures.queuedJob(
            in: fixture.store, count: Self.rows, spec: spec, owner: "carol", keyID: "capped", now: now)

        let workers = try (0..<2).map {
            try WorkerProcess(number: $0, database: fixture.databaseURL, config: config, in: directory, concurrency: Self.concurrency)
        }
        // What alice's weight-1 job had done when bob's weight-3 job finished.
        var lightAtHeavyEnd: JobCounts?
        try await waitUntil("bob's job to finish") {
            guard let job = try await fixture.store.job(id: heavy.id), job.status.isFinal else { return false }
            lightAtHeavyEnd = try await fixture.store.job(id: light.id)?.counts
            return true
        }
        try await waitUntil("alice's job to finish and carol's to pause at her quota") {
            let finished = try await fixture.store.job(id: light.id)?.status.isFinal == true
            let paused = try await fixture.store.job(id: capped.id)?.status == .paused
            return finished && paused
        }
        for worker in workers { try await worker.stop() }
        #expect(workers.allSatisfy { $0.process.termination == .exited(0) })
        let (primaryCalls, backupCalls) = (primary.counters.received, backup.counters.received)
        try await primary.stop()
        try await backup.stop()

        var done: [Job] = []
        for job in [light, heavy, capped] { done.append(try #require(try await fixture.store.job(id: job.id))) }
        // Weights: while both ran, bob's key got about three calls for each of alice's.
        let aliceDone = try #require(lightAtHeavyEnd).succeeded
        #expect(aliceDone > 0 && aliceDone * 5 <= Self.rows * 3, "alice had \(aliceDone) of \(Self.rows) when bob finished")
        #expect(done[0].status == .completed && done[1].status == .completed, "\(done[0].counts) \(done[1].counts)")

        // The quota: carol's job paused with the quota's reason, past it by no more than the
        // calls both workers could have in flight.
        let usage = try await fixture.store.usage.usage(user: nil, from: "2000-01-01", through: "2100-01-01")
        let carol = usage.filter { $0.user == "carol" }
        let carolTokens = carol.reduce(0) { $0 + $1.promptTokens + $1.completionTokens }
        let carolCalls = carol.reduce(0) { $0 + $1.calls }
        #expect(done[2].statusReason?.hasPrefix("quota:") == true, "\(done[2].statusReason ?? "no reason")")
        #expect(done[2].counts.succeeded < Self.rows && carolCalls > 0)
        let perCall = Double(carolTokens) / Double(max(carolCalls, 1))
        let inFlight = Double(2 * (Self.concurrency + 2))
        #expect(Double(carolTokens) <= Double(quota) + inFlight * perCall, "spent \(carolTokens) of \(quota)")
        #expect(Double(carolTokens) >= Double(quota) / 2, "the quota was used, not stopped short: \(carolTokens)")

        // The fallback answered everything the dead provider was asked, and the ledger, which
        // adds up to the jobs exactly, names it.
        #expect(primaryCalls > 0, "the primary was tried")
        #expect(Set(usage.map(\.provider)) == ["backup"] && Set(usage.map(\.model)) == ["backup-model"])
        #expect(usage.reduce(0) { $0 + $1.calls } == Int64(done.reduce(0) { $0 + $1.calls }))
        #expect(usage.reduce(0) { $0 + $1.calls } == Int64(backupCalls), "every backup call is in the ledger once")
        for job in done {
            let items = try await fixture.store.items(jobID: job.id, status: .succeeded, afterIndex: -1, limit: Self.rows)
            #expect(items.allSatisfy { $0.model == "backup-model" }, "each result names the model that answered")
        }
    }

    /// Carol's daily tokens: about 70 of the fake's calls (14 tokens each).
    static let quotaTokens = 1_000
}
