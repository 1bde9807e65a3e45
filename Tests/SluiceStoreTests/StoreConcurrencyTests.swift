import Foundation
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing

/// Races that a driver relying on one writer, or on reading before writing, would lose. Each
/// contender is a store of its own on the same database — its own connections, as separate
/// processes would have — and they run at once.
@Suite struct StoreConcurrencyTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// Stores on one database, as many processes.
    func processes(_ count: Int, sharing fixture: StoreFixture) async throws -> [StoreFixture] {
        var stores = [fixture]
        for _ in 1..<count { stores.append(try await fixture.another()) }
        return stores
    }

    @Test(arguments: StoreDriver.available)
    func concurrentClaimersNeverGetTheSameItem(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let job = try await Fixtures.queuedJob(
            in: fixture.store, count: 1_500, spec: Fixtures.spec(["template": "{{text}}", "batch_size": 7]), now: t0)
        let stores = try await processes(4, sharing: fixture)
        let claims = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for (number, process) in stores.enumerated() {
                for worker in 0..<3 {
                    group.addTask {
                        var mine: [Int64] = []
                        while let batch = try await process.store.claim(owner: "p\(number)w\(worker)", limit: 5, leaseDuration: 60, now: t0)
                        {
                            mine += batch.items.map(\.id)
                        }
                        return mine
                    }
                }
            }
            return try await group.reduce(into: [[Int64]]()) { $0.append($1) }
        }
        let all = claims.flatMap { $0 }
        #expect(all.count == 1_500)
        #expect(Set(all).count == 1_500, "no item was claimed twice")
        #expect(claims.filter { !$0.isEmpty }.count > 1, "the claims were shared out")
        let after = try #require(try await fixture.store.job(id: job.id))
        #expect(after.counts == JobCounts(total: 1_500, running: 1_500))
        let attempts = try await fixture.store.items(jobID: job.id, status: nil, afterIndex: -1, limit: 2_000).map(\.attempts)
        #expect(attempts.allSatisfy { $0 == 1 })
    }

    @Test(arguments: StoreDriver.available)
    func groupOrderHoldsAcrossConcurrentClaimers(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let job = try await Fixtures.queuedJob(in: fixture.store, count: 120, groups: { "chat\($0 % 4)" }, now: t0)
        let stores = try await processes(3, sharing: fixture)
        // Each contender claims, records at once, and claims again, until nothing is left: at no
        // point may an item run while an earlier one of its group is unfinished.
        let order = try await withThrowingTaskGroup(of: [(Int, Int64)].self) { group in
            for (number, process) in stores.enumerated() {
                group.addTask {
                    var seen: [(Int, Int64)] = []
                    var idle = 0
                    while idle < 50 {
                        guard let batch = try await process.store.claim(owner: "p\(number)", limit: 4, leaseDuration: 60, now: t0) else {
                            idle += 1
                            await Task.yield()
                            continue
                        }
                        idle = 0
                        for item in batch.items {
                            let earlier = try await process.store.items(jobID: job.id, status: nil, afterIndex: -1, limit: 200)
                                .filter { $0.groupKey == item.groupKey && $0.index < item.index }
                            #expect(
                                earlier.allSatisfy { $0.status == .succeeded },
                                "item \(item.index) ran before its group's earlier items ended")
                            seen.append((item.index, item.id))
                        }
                        let outcomes = batch.items.map { ItemOutcome(itemID: $0.id, result: .succeeded("ok")) }
                        _ = try await process.store.record(outcomes, owner: "p\(number)", now: t0)
                    }
                    return seen
                }
            }
            return try await group.reduce(into: [(Int, Int64)]()) { $0 += $1 }
        }
        #expect(order.count == 120)
        #expect(try await fixture.store.job(id: job.id)?.status == .completed)
    }

    @Test(arguments: StoreDriver.available)
    func concurrentFinishersFinaliseTheJobOnce(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let job = try await Fixtures.queuedJob(
            in: fixture.store, count: 96, spec: Fixtures.spec(["template": "{{text}}", "batch_size": 4]), now: t0)
        let stores = try await processes(4, sharing: fixture)
        var leases: [(store: StoreFixture, owner: String, items: [Int64])] = []
        for index in 0..<24 {
            let owner = "w\(index)"
            let batch = try #require(try await fixture.store.claim(owner: owner, limit: 4, leaseDuration: 60, now: t0))
            leases.append((stores[index % stores.count], owner, batch.items.map(\.id)))
        }
        // Every lease holder records its items one by one, all at once.
        let finished = try await withThrowingTaskGroup(of: [String: JobStatus].self) { group in
            for lease in leases {
                group.addTask {
                    var finished: [String: JobStatus] = [:]
                    for id in lease.items {
                        let result = try await lease.store.store.record(
                            [ItemOutcome(itemID: id, result: id % 5 == 0 ? .failed("no") : .succeeded("ok"))], owner: lease.owner, now: t0)
                        #expect(result.ids == [id])
                        finished.merge(result.finishedJobs) { first, _ in first }
                    }
                    return finished
                }
            }
            return try await group.reduce(into: [[String: JobStatus]]()) { $0.append($1) }
        }
        let reports = finished.flatMap { $0 }
        #expect(reports.count == 1, "one transaction finalised the job: \(reports)")
        let done = try #require(try await fixture.store.job(id: job.id))
        #expect(reports.first?.key == job.id)
        #expect(reports.first?.value == done.status)
        let failed = try await fixture.store.items(jobID: job.id, status: .failed, afterIndex: -1, limit: 200).count
        #expect(done.status == .completedWithErrors)
        #expect(done.counts == JobCounts(total: 96, succeeded: 96 - failed, failed: failed))
        #expect(done.errors.count == min(failed, Job.maximumErrors), "errors were appended, none lost to a rewrite")
    }

    @Test(arguments: StoreDriver.available)
    func twoIngestorsRaceForOneUpload(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let stores = try await processes(4, sharing: fixture)
        let job = try await fixture.store.createJob(NewJob(owner: "a", name: "upload", spec: Fixtures.spec(), sources: []), now: t0)
        let winners = try await withThrowingTaskGroup(of: String?.self) { group in
            for (number, process) in stores.enumerated() {
                group.addTask {
                    let owner = "reader\(number)"
                    guard try await process.store.leaseIngest(owner: owner, leaseDuration: 30, now: t0) != nil else { return nil }
                    try await process.store.restartValidation(jobID: job.id, owner: owner)
                    for chunk in 0..<5 {
                        let items = (0..<100).map { NewItem(index: chunk * 100 + $0, groupKey: nil, input: JSONObject([("n", .int($0))])) }
                        try await process.store.appendItems(jobID: job.id, owner: owner, items: items)
                    }
                    _ = try await process.store.finishValidation(jobID: job.id, owner: owner, now: t0)
                    return owner
                }
            }
            return try await group.compactMap { $0 }.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(winners.count == 1, "one process read the upload: \(winners)")
        let queued = try #require(try await fixture.store.job(id: job.id))
        #expect(queued.status == .queued)
        #expect(queued.counts == JobCounts(total: 500, pending: 500))

        // A reader that lost its lease mid-read is refused, and the taker's read is whole.
        let second = try await fixture.store.createJob(NewJob(owner: "a", name: "u2", spec: Fixtures.spec(), sources: []), now: t0)
        _ = try await stores[0].store.leaseIngest(owner: "slow", leaseDuration: 30, now: t0)
        try await stores[0].store.appendItems(
            jobID: second.id, owner: "slow", items: [NewItem(index: 0, groupKey: nil, input: JSONObject())])
        let later = t0.addingTimeInterval(31)
        #expect(try await stores[1].store.leaseIngest(owner: "fast", leaseDuration: 30, now: later)?.id == second.id)
        let slow = stores[0].store
        let fast = stores[1].store
        let slowAppend = Task {
            try await slow.appendItems(jobID: second.id, owner: "slow", items: [NewItem(index: 1, groupKey: nil, input: JSONObject())])
        }
        let fastRead = Task {
            try await fast.restartValidation(jobID: second.id, owner: "fast")
            try await fast.appendItems(
                jobID: second.id, owner: "fast", items: (0..<3).map { NewItem(index: $0, groupKey: nil, input: JSONObject()) })
            return try await fast.finishValidation(jobID: second.id, owner: "fast", now: later)
        }
        await #expect(throws: StoreError.self) { try await slowAppend.value }
        let read = try await fastRead.value
        #expect(read.counts == JobCounts(total: 3, pending: 3))
    }

    @Test(arguments: StoreDriver.available)
    func aLostLeaseCannotRecordWhileTheReaperTakesItBack(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let stores = try await processes(2, sharing: fixture)
        let job = try await Fixtures.queuedJob(
            in: fixture.store, count: 200, spec: Fixtures.spec(["template": "{{text}}", "batch_size": 200]), now: t0)
        let batch = try #require(try await fixture.store.claim(owner: "slow", limit: 200, leaseDuration: 10, now: t0))
        let expired = t0.addingTimeInterval(11)
        // The slow worker records its results one by one while the reaper reclaims the lot.
        async let reclaimed = stores[1].store.reclaimExpiredLeases(now: expired)
        var recorded: Set<Int64> = []
        for item in batch.items {
            recorded.formUnion(
                try await stores[0].store.record([ItemOutcome(itemID: item.id, result: .succeeded("late"))], owner: "slow", now: expired)
                    .ids)
        }
        let taken = try await reclaimed
        #expect(recorded.count + taken == 200, "each item was either recorded or taken back, never both")
        let items = try await fixture.store.items(jobID: job.id, status: nil, afterIndex: -1, limit: 300)
        #expect(Set(items.filter { $0.status == .succeeded }.map(\.id)) == recorded)
        #expect(items.filter { $0.status == .pending }.count == taken)
        let after = try #require(try await fixture.store.job(id: job.id))
        #expect(after.counts.succeeded == recorded.count)
        #expect(after.counts.pending == taken)
        #expect(after.counts.running == 0)
    }
}

/// The providers' schedule shared by every process (``PaceStore``).
@Suite struct PaceStoreTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test(arguments: StoreDriver.available)
    func blocksTakenAtOnceByManyProcessesNeverOverlap(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        var stores = [fixture]
        for _ in 1..<4 { stores.append(try await fixture.another()) }
        let request = PaceRequest(provider: "openai", calls: 5, tokens: 500, secondsPerCall: 0.1, secondsPerToken: 0.001)
        let starts = try await withThrowingTaskGroup(of: [Date].self) { group in
            for process in stores {
                group.addTask {
                    var mine: [Date] = []
                    for _ in 0..<10 { mine += try await process.store.pace.takePace(request, now: t0).starts }
                    return mine
                }
            }
            return try await group.reduce(into: [Date]()) { $0 += $1 }
        }.sorted()
        #expect(starts.count == 200)
        let gaps = zip(starts, starts.dropFirst()).map { $1.timeIntervalSince($0) }
        #expect(gaps.allSatisfy { $0 >= 0.1 - 1e-6 }, "every call is a request interval after the one before, whoever booked it")
        // 40 blocks of 500 tokens at a millisecond each: the last block starts once 39 are paid.
        #expect(starts.last!.timeIntervalSince(t0) >= 19.5 - 1e-6)
    }

    @Test(arguments: StoreDriver.available)
    func aHoldOneProcessSeesHoldsEveryProcess(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let other = try await fixture.another()
        let request = PaceRequest(provider: "anthropic", calls: 2, tokens: 0, secondsPerCall: 0.5, secondsPerToken: 0)
        #expect(try await fixture.store.pace.takePace(request, now: t0).starts == [t0, t0.addingTimeInterval(0.5)])
        try await fixture.store.pace.holdPace(provider: "anthropic", until: t0.addingTimeInterval(30), reason: .rateLimited)
        let held = try await other.store.pace.takePace(request, now: t0.addingTimeInterval(1))
        #expect(held.starts == [t0.addingTimeInterval(30), t0.addingTimeInterval(30.5)], "a 429 seen by one holds back all")
        #expect(held.circuitOpenUntil == nil)
        try await other.store.pace.holdPace(provider: "anthropic", until: t0.addingTimeInterval(60), reason: .circuitOpen)
        let open = try await fixture.store.pace.takePace(request, now: t0.addingTimeInterval(2))
        #expect(open.circuitOpenUntil == t0.addingTimeInterval(60))
        let other2 = try await other.store.pace.takePace(
            PaceRequest(provider: "openai", calls: 1, tokens: 0, secondsPerCall: 1, secondsPerToken: 0), now: t0)
        #expect(other2.starts == [t0], "each provider has a schedule of its own")
        #expect(other2.circuitOpenUntil == nil)
    }
}

/// What each worker's gates know of the provider keys' limits (``ProviderReadingStore``).
@Suite struct ProviderReadingStoreTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func reading(_ provider: String, _ worker: String, source: LimitReading.Source, rpm: Double?, at time: Date) -> ProviderReading {
        ProviderReading(
            provider: provider, worker: worker,
            limits: LimitReading(
                source: source, requestsPerMinute: rpm, pacedRequestsPerMinute: rpm.map { $0 / 2 }, tokensPerMinute: 90_000,
                blockedUntil: time.addingTimeInterval(5), burstsAllowed: false, callsInFlight: 3),
            circuitOpenUntil: source == .learned ? time.addingTimeInterval(30) : nil, reportedAt: time)
    }

    @Test(arguments: StoreDriver.available)
    func eachWorkerReplacesItsOwnReadingsAndStaleOnesGo(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let other = try await fixture.another()
        let readings = fixture.store.readings
        let first = [
            reading("openai#1", "w1", source: .reported, rpm: 495, at: t0), reading("openai#2", "w1", source: .learned, rpm: nil, at: t0),
        ]
        try await readings.report(first, worker: "w1", now: t0)
        let second = reading("openai#1", "w2", source: .configured, rpm: 600, at: t0.addingTimeInterval(1))
        try await other.store.readings.report([second], worker: "w2", now: t0.addingTimeInterval(1))
        #expect(try await readings.readings(since: t0) == [first[0], second, first[1]], "every field kept, by provider and worker")
        #expect(try await readings.readings(since: t0.addingTimeInterval(0.5)) == [second])

        // w1's next report replaces its rows: a gate no longer there goes too.
        let later = reading("openai#1", "w1", source: .reported, rpm: 480, at: t0.addingTimeInterval(15))
        try await readings.report([later], worker: "w1", now: t0.addingTimeInterval(15))
        #expect(try await readings.readings(since: t0) == [later, second])

        // w2 was killed and never said goodbye: an hour on, the next report anyone makes drops it.
        let muchLater = t0.addingTimeInterval(ProviderReadings.forgottenAfter + 2)
        let last = reading("openai#1", "w1", source: .reported, rpm: 480, at: muchLater)
        try await readings.report([last], worker: "w1", now: muchLater)
        #expect(try await readings.readings(since: t0) == [last])
        try await other.store.readings.forget(worker: "w1")
        #expect(try await readings.readings(since: t0).isEmpty, "a stopping worker's readings go with it")
    }
}

/// The same migrations mean the same on both drivers: after them, the same tables with the
/// same columns, and the same migrations recorded.
@Suite struct SchemaParityTests {
    static let sqliteColumns = """
        SELECT m.name AS table_name, p.name AS column_name FROM sqlite_master AS m, pragma_table_info(m.name) AS p
        WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT IN ('grdb_migrations', 'counters')
        """
    static let postgresColumns = """
        SELECT table_name::text AS table_name, column_name::text AS column_name FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name <> 'schema_migrations'
        """

    func columns(_ fixture: StoreFixture, _ sql: String) async throws -> Set<String> {
        try await fixture.store.database.read { tx in
            Set(try tx.rows(sql, []).map { "\(try $0.text("table_name")).\(try $0.text("column_name"))" })
        }
    }

    @Test(.enabled(if: StoreDriver.available.contains(.postgres), "needs SLUICE_TEST_POSTGRES"))
    func bothDriversEndInTheSameSchema() async throws {
        let sqlite = try await StoreDriver.sqlite.makeStore()
        let postgres = try await StoreDriver.postgres.makeStore()
        let sqliteColumns = try await columns(sqlite, Self.sqliteColumns)
        let postgresColumns = try await columns(postgres, Self.postgresColumns)
        #expect(sqliteColumns.contains("jobs.ingest_owner") && sqliteColumns.contains("api_keys.user_name"))
        #expect(
            sqliteColumns == postgresColumns,
            "only SQLite: \(sqliteColumns.subtracting(postgresColumns).sorted()); only PostgreSQL: \(postgresColumns.subtracting(sqliteColumns).sorted())"
        )
        #expect(try await sqlite.store.database.pendingMigrations().isEmpty)
        #expect(try await postgres.store.database.pendingMigrations().isEmpty)
        let sqliteApplied = try await sqlite.store.database.read { tx in
            try tx.rows("SELECT identifier FROM grdb_migrations ORDER BY identifier", []).map { try $0.text("identifier") }
        }
        let postgresApplied = try await postgres.store.database.read { tx in
            try tx.rows("SELECT name FROM schema_migrations ORDER BY name", []).map { try $0.text("name") }
        }
        #expect(sqliteApplied == postgresApplied)
    }
}
