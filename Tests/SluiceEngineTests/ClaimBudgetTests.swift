import SluiceStore
import Testing

@testable import SluiceEngine

@Suite struct ClaimBudgetTests {
    let budget = ClaimBudget(concurrency: 16, prefetch: 4)

    @Test func aRateLimitedProviderIsClaimedOneSecondAhead() throws {
        // 600 a minute: ten calls a second; three are already waiting to go out.
        let room = try #require(
            budget.allowance(calls: 5, providers: ["openai": .init(queued: 3, startsAhead: 9.9)]))
        #expect(room.allowance.byProvider["openai"] == 7)
        // Room for less than half a second's worth: not worth a claim yet.
        #expect(budget.allowance(calls: 9, providers: ["openai": .init(queued: 7, startsAhead: 9.9)]) == nil)
        // Booked a second ahead: nothing more until one goes out.
        #expect(budget.allowance(calls: 12, providers: ["openai": .init(queued: 10, startsAhead: 9.9)]) == nil)
    }

    @Test func aProcessSharingAPaceHoldsThePartItStarts() throws {
        // 600 a minute shared by two processes: this one started 4 in the last second.
        let shared = try #require(
            budget.allowance(calls: 0, providers: ["openai": .init(queued: 0, startsAhead: 9.9, startedLastSecond: 4, sharesPace: true)]))
        #expect(shared.allowance.byProvider["openai"] == 5, "its part and one more, not the whole second's pace")
        // Just started: one at a time until its part shows.
        #expect(budget.allowance(calls: 0, providers: ["openai": .init(queued: 0, startsAhead: 9.9, sharesPace: true)])?.limit == 1)
    }

    @Test func aProviderSlowerThanOneCallASecondGetsOneAtATime() throws {
        let idle = try #require(budget.allowance(calls: 0, providers: ["tier1": .init(queued: 0, startsAhead: 0.2)]))
        #expect(idle.allowance.byProvider["tier1"] == 1)
        #expect(budget.allowance(calls: 1, providers: ["tier1": .init(queued: 1, startsAhead: 0.2)]) == nil)
        // Blocked by a 429 (nothing starts within the second): still one, so its job keeps its turn.
        #expect(budget.allowance(calls: 0, providers: ["tier1": .init(queued: 0, startsAhead: 0)])?.allowance.byProvider["tier1"] == 1)
    }

    @Test func aProviderWithoutALimitHoldsItsSlotsAndWhatItStartedInTheLastSecond() throws {
        let cold = try #require(budget.allowance(calls: 0, providers: ["builtin": .init()]))
        #expect(cold.limit == 20 && cold.allowance.byProvider["builtin"] == 20, "free slots and the prefetch")
        let fast = try #require(budget.allowance(calls: 16, providers: ["builtin": .init(startedLastSecond: 9000)]))
        #expect(fast.allowance.byProvider["builtin"] == ClaimBudget.mostAhead, "a fast provider's claims come in batches")
        // All slots busy and little room: not worth a claim yet.
        #expect(budget.allowance(calls: 26, providers: ["builtin": .init(startedLastSecond: 12)]) == nil)
    }

    @Test func routedJobsTakeTheSmallestAllowance() throws {
        let room = try #require(
            budget.allowance(calls: 4, providers: ["builtin": .init(), "openai": .init(queued: 2, startsAhead: 5)]))
        #expect(room.allowance.byProvider == ["builtin": 16, "openai": 3])
        #expect(room.allowance.routed == 3)
        #expect(room.limit == 16)
    }

    @Test func routedJobsWaitUntilAClaimIsWorthItForEveryProvider() throws {
        // The paced provider has room for one call more: a routed claim now would take its calls
        // one at a time. The provider without a limit still gets its claim, without routed items.
        let providers: [String: ClaimBudget.Provider] = ["builtin": .init(), "openai": .init(queued: 9, startsAhead: 10)]
        let named = try #require(budget.allowance(calls: 12, providers: providers))
        #expect(named.allowance.routed == 0 && named.offered == ["builtin", "openai"])
        #expect(budget.allowance(calls: 12, providers: providers, empty: ["builtin"]) == nil)
        // Half a second's worth free: routed jobs are offered it.
        let half = try #require(
            budget.allowance(calls: 8, providers: ["builtin": .init(), "openai": .init(queued: 5, startsAhead: 10)], empty: ["builtin"]))
        #expect(half.allowance.routed == 5 && half.offered == ["openai", "auto"])
    }

    @Test func providersAClaimFoundNothingForAreOfferedNothing() throws {
        let providers: [String: ClaimBudget.Provider] = ["builtin": .init(), "openai": .init(queued: 2, startsAhead: 5)]
        let paced = try #require(budget.allowance(calls: 4, providers: providers, empty: ["builtin"]))
        #expect(paced.allowance.byProvider == ["builtin": 0, "openai": 3])
        #expect(paced.limit == 3 && paced.offered == ["openai", "auto"])
        // Routed jobs found nothing either: only the paced provider's.
        let named = try #require(budget.allowance(calls: 4, providers: providers, empty: ["builtin", "auto"]))
        #expect(named.allowance.routed == 0 && named.offered == ["openai"])
        // Nothing left to offer: no claim, however many free slots the provider without a limit has.
        #expect(budget.allowance(calls: 4, providers: providers, empty: ["builtin", "openai", "auto"]) == nil)
        #expect(budget.allowance(calls: 0, providers: ["builtin": .init()], empty: ["builtin", "auto"]) == nil)
    }
}
