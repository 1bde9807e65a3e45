import HTTPTypes
import Testing

@testable import SluiceServer

/// The pure parts behind request handling: the per-key budget and the table of known paths.
@Suite struct RequestLimitsTests {
    @Test func theRequestBudgetAllowsABurstThenPaces() {
        let limiter = RequestRateLimiter(perMinute: 60, burst: 3)
        #expect(limiter.admit("k", now: 0) == nil)
        #expect(limiter.admit("k", now: 0) == nil)
        #expect(limiter.admit("k", now: 0) == nil)
        #expect(limiter.admit("k", now: 0) == 1, "the fourth waits one interval")
        #expect(limiter.admit("other", now: 0) == nil, "keys have separate budgets")
        #expect(limiter.admit("k", now: 1) == nil)
    }

    @Test func aKeysSlotIsGivenBackOnceWhetherReleasedOrDropped() throws {
        let slots = KeySlots(perKey: 1, what: "event streams", code: "too_many_streams")
        _ = try slots.take(for: "k")
        #expect(slots.inProgress == 0, "a hold dropped unreleased (a response whose body never ran) gives its slot back")
        do {
            let slot = try slots.take(for: "k")
            #expect(throws: APIError.self) { try slots.take(for: "k") }
            slot.release()
            slot.release()
        }
        #expect(slots.inProgress == 0, "released twice and dropped: given back once")
        let held = try slots.take(for: "k")
        #expect(slots.inProgress == 1)
        held.release()
    }

    @Test func knownPathsAnswerWithTheirMethods() {
        let paths = RoutePaths()
        paths.add(.get, "/v1/jobs/:id")
        paths.add(.delete, "/v1/jobs/:id")
        #expect(paths.allowedMethods(forPath: "/v1/jobs/job_1") == [.get, .delete])
        #expect(paths.allowedMethods(forPath: "/v1/jobs/job_1/x") == nil)
        #expect(paths.allowedMethods(forPath: "/v1/other/1") == nil)
    }
}
