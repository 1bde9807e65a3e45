import Foundation
import Logging
import SluiceStore
import SluiceTestSupport
import Synchronization
import Testing

@testable import SluiceEngine

@Suite struct BlockingPoolTests {
    /// Heavy work runs below the threads that answer requests.
    @Test func itsThreadsRunAtTheNicenessAsked() async throws {
        let pool = BlockingPool(threads: 1, perOwner: 1, niceness: 7)
        let nice = try await pool.run { getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) }
        #expect(nice == 7)
    }

    /// One owner's work waits for its share while another owner's runs at once.
    @Test func oneOwnersWorkNeverTakesEveryThread() async throws {
        let pool = BlockingPool(threads: 2, perOwner: 1)
        let release = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        let secondStarted = Atomic<Bool>(false)
        async let first: Void = pool.run(owner: "a") {
            started.signal()
            release.wait()
        }
        await Task.detached { started.wait() }.value
        async let second: Void = pool.run(owner: "a") { secondStarted.store(true, ordering: .sequentiallyConsistent) }
        // Another owner's work runs while "a"'s first still holds its only share.
        let other = try await pool.run(owner: "b") { 42 }
        #expect(other == 42)
        let secondRanEarly = secondStarted.load(ordering: .sequentiallyConsistent)
        #expect(!secondRanEarly, "a's second waited for its first")
        release.signal()
        try await first
        try await second
        let secondRan = secondStarted.load(ordering: .sequentiallyConsistent)
        #expect(secondRan)
        #expect(pool.ownersInUse == 0, "an owner leaves the table with its last piece of work")
    }
}

@Suite struct DatabaseClockTests {
    /// The database's clock is read right (seconds since 1970, on both drivers): on this machine
    /// it is this process's clock, so the measured offset is at most half the round trip it was
    /// measured in (plus the database's rounding) — however long a loaded machine made that trip.
    @Test(arguments: StoreDriver.available)
    func theDatabasesClockIsReadAndAppliedAsAnOffset(driver: StoreDriver) async throws {
        let fixture = try await driver.makeStore()
        let clock = DatabaseClock(store: fixture.store, logger: Logger(label: "test"))
        let before = Date()
        try await clock.synchronize()
        let roundTrip = Date().timeIntervalSince(before)
        #expect(abs(clock.offsetSeconds) <= roundTrip / 2 + 0.01, "\(clock.offsetSeconds) after \(roundTrip) s")
        let asked = Date()
        let database = try await fixture.store.databaseTime()
        let answered = Date()
        #expect(database >= asked.addingTimeInterval(-0.01) && database <= answered.addingTimeInterval(0.01))
        let start = Date()
        let now = clock.now()
        let end = Date()
        #expect(
            now >= start.addingTimeInterval(clock.offsetSeconds) && now <= end.addingTimeInterval(clock.offsetSeconds),
            "the offset is applied")
    }
}
