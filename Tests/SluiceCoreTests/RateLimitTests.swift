import Foundation
import Testing

@testable import SluiceCore

@Suite struct RateLimitSignalTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test(arguments: [("1s", 1.0), ("6m0s", 360), ("250ms", 0.25), ("1h2m3.5s", 3723.5), ("20ms", 0.02), ("0s", 0), ("2", 2)])
    func openAIDurations(text: String, seconds: Double) {
        #expect(RateLimitSignal.durationSeconds(text) == seconds)
    }

    @Test func refusesMalformedDurations() {
        #expect(RateLimitSignal.durationSeconds("soon") == nil)
        #expect(RateLimitSignal.durationSeconds("5x") == nil)
        #expect(RateLimitSignal.durationSeconds("1m5") == nil)
    }

    @Test func retryAfterInSecondsOrAsAnHTTPDate() {
        #expect(RateLimitSignal.retryAfterSeconds("7", now: now) == 7)
        let tenSecondsBefore = Date(timeIntervalSince1970: 1800000000)
        #expect(RateLimitSignal.retryAfterSeconds("Fri, 15 Jan 2027 08:00:10 GMT", now: tenSecondsBefore) == 10)
        #expect(RateLimitSignal.retryAfterSeconds("not a date", now: now) == nil)
    }

    @Test func readsOpenAIHeaders() {
        let signal = RateLimitSignal(
            headers: [
                ("Retry-After", "2"), ("x-ratelimit-limit-requests", "600"), ("x-ratelimit-remaining-requests", "599"),
                ("x-ratelimit-reset-requests", "100ms"), ("x-ratelimit-limit-tokens", "150000"),
                ("x-ratelimit-remaining-tokens", "149000"), ("x-ratelimit-reset-tokens", "6m0s"),
            ], now: now)
        #expect(signal.retryAfter == 2)
        #expect(signal.requests == .init(limit: 600, remaining: 599, resetIn: 0.1))
        #expect(signal.tokens == .init(limit: 150_000, remaining: 149_000, resetIn: 360))
    }

    @Test func readsAnthropicHeaders() {
        let signal = RateLimitSignal(
            headers: [
                ("anthropic-ratelimit-requests-limit", "50"), ("anthropic-ratelimit-requests-remaining", "0"),
                ("anthropic-ratelimit-requests-reset", "2027-01-15T08:00:30Z"),
            ], now: ISO8601DateFormatter().date(from: "2027-01-15T08:00:00Z")!)
        #expect(signal.requests == .init(limit: 50, remaining: 0, resetIn: 30))
        #expect(signal.tokens == nil)
    }
}

@Suite struct RateLimiterTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    /// Completes `permit` successfully with a requests window in its headers.
    func answer(_ permit: RateLimiter.Permit, _ limiter: inout RateLimiter, remaining: Double, resetIn: Double, at now: Date) {
        limiter.complete(
            permit, outcome: .succeeded(usedTokens: nil, replyTokens: nil),
            signal: RateLimitSignal(requests: .init(limit: 600, remaining: remaining, resetIn: resetIn)), now: now)
    }

    /// Books calls back to back for `seconds`, each completing the moment it starts.
    func drive(_ limiter: inout RateLimiter, seconds: Double, from start: Date? = nil, tokens: Double = 1) -> [Date] {
        var now = start ?? t0
        var starts: [Date] = []
        let end = (start ?? t0).addingTimeInterval(seconds)
        while now < end {
            let permit = limiter.reserve(promptTokens: tokens, maxReplyTokens: 0, now: now)
            now = max(now, permit.startAt)
            guard now < end else { break }
            starts.append(permit.startAt)
            limiter.complete(permit, outcome: .succeeded(usedTokens: nil, replyTokens: nil), signal: nil, now: now)
        }
        return starts
    }

    @Test func saysHowManyCallsCouldStartWithinASecond() {
        #expect(RateLimiter(limits: RateLimits()).startsWithin(seconds: 1, now: t0) == nil, "no limit: nothing holds calls back")
        #expect(RateLimiter(limits: RateLimits(requestsPerMinute: 600)).startsWithin(seconds: 1, now: t0) == 600 / 60 * 0.99)
        // Tokens bind when a call costs more of them than requests allow: 6,000 a minute at
        // 1,000 a call (prompt 744 + the default reply of 256) is one call every ten seconds.
        var tokens = RateLimiter(limits: RateLimits(requestsPerMinute: 600, tokensPerMinute: 6000))
        let permit = tokens.reserve(promptTokens: 744, maxReplyTokens: nil, now: t0)
        tokens.cancel(permit)
        #expect(abs(tokens.startsWithin(seconds: 1, now: t0)! - 6000 / 60 * 0.99 / 1000) < 1e-9)
        // Credit from a header is spendable at once; a 429 blocks until its reset.
        var credit = RateLimiter(limits: RateLimits(requestsPerMinute: 600))
        answer(credit.reserve(promptTokens: 1, maxReplyTokens: 0, now: t0), &credit, remaining: 200, resetIn: 30, at: t0)
        #expect(credit.startsWithin(seconds: 1, now: t0)! > 200)
        var blocked = RateLimiter(limits: RateLimits(requestsPerMinute: 600))
        blocked.complete(
            blocked.reserve(promptTokens: 1, maxReplyTokens: 0, now: t0), outcome: .rateLimited,
            signal: RateLimitSignal(retryAfter: 5), now: t0)
        #expect(blocked.startsWithin(seconds: 1, now: t0) == 0)
    }

    @Test func pacesRequestsEvenlyNeverInABurst() {
        var limiter = RateLimiter(limits: RateLimits(requestsPerMinute: 600))
        let starts = drive(&limiter, seconds: 60)
        #expect(starts.count >= 592 && starts.count <= 595, "99% of 600")
        let gaps = zip(starts.dropFirst(), starts).map { $0.timeIntervalSince($1) }
        #expect(gaps.allSatisfy { abs($0 - 60.0 / 594) < 1e-6 })
        // No one-second window holds more than the per-second share.
        for start in starts {
            #expect(starts.filter { $0 >= start && $0 < start.addingTimeInterval(1) }.count <= 10)
        }
    }

    @Test func everyWaiterIsBookedItsOwnStartTime() {
        var limiter = RateLimiter(limits: RateLimits(requestsPerMinute: 600))
        let gap = 60.0 / 594
        // Forty callers arrive at once: each gets the next slot, none the same instant.
        let permits = (0..<40).map { _ in limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: t0) }
        for (index, permit) in permits.enumerated() {
            #expect(abs(permit.startAt.timeIntervalSince(t0) - Double(index) * gap) < 1e-6)
        }
        // A caller that gives up its slot hands the tail of the schedule back...
        limiter.cancel(permits[39])
        let again = limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: t0)
        #expect(abs(again.startAt.timeIntervalSince(t0) - 39 * gap) < 1e-6)
        // ...and one that arrives after a quiet spell starts at once.
        let later = t0.addingTimeInterval(100)
        #expect(limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: later).startAt == later)
    }

    @Test func aWaiterWokenLateStillKeepsTheSpacingFromTheCallBeforeIt() {
        var limiter = RateLimiter(limits: RateLimits(requestsPerMinute: 600))
        let gap = 60.0 / 594
        var first = limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: t0)
        var second = limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: t0)
        // The first waiter wakes 80 ms late; the second, on time, would start 21 ms after it.
        let late = t0.addingTimeInterval(0.08)
        #expect(limiter.begin(&first, now: late) == nil)
        let wait = limiter.begin(&second, now: second.startAt) ?? t0
        #expect(abs(wait.timeIntervalSince(late) - gap) < 1e-6)
        #expect(limiter.begin(&second, now: late.addingTimeInterval(gap)) == nil)
        // Calls on credit are not paced.
        answer(first, &limiter, remaining: 100, resetIn: 10, at: late.addingTimeInterval(gap))
        var burst = limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: late.addingTimeInterval(gap))
        #expect(burst.onCredit && limiter.begin(&burst, now: late.addingTimeInterval(gap)) == nil)
    }

    @Test func waitersRebookingOverAndOverDoNotDriftTheSchedule() {
        var limiter = RateLimiter(limits: RateLimits(requestsPerMinute: 600, tokensPerMinute: 60_000))
        // Tokens bind: each call's 500 tokens take half a second of the 990 tokens/s.
        var waiting = (0..<4).map { _ in limiter.reserve(promptTokens: 500, maxReplyTokens: 0, now: t0) }
        let last = waiting.map(\.startAt).max()!
        // A booking that tokens put late gives back its request slot, not its late start.
        #expect(abs(limiter.nextRequestAt!.timeIntervalSince(t0) - 4 * 60.0 / 594) < 1e-6)
        limiter.cancel(waiting[3])
        #expect(abs(limiter.nextRequestAt!.timeIntervalSince(t0) - 3 * 60.0 / 594) < 1e-6)
        waiting[3] = limiter.reserve(promptTokens: 500, maxReplyTokens: 0, now: t0)
        #expect(waiting[3].startAt == last)
        for _ in 0..<50 {
            for index in waiting.indices {
                limiter.cancel(waiting[index])
                waiting[index] = limiter.reserve(promptTokens: 500, maxReplyTokens: 0, now: t0)
            }
        }
        #expect(abs(waiting.map(\.startAt).max()!.timeIntervalSince(last)) < 1e-6)
    }

    @Test func aBookingOvertakenByA429IsRebooked() {
        var limiter = RateLimiter(limits: RateLimits(requestsPerMinute: 600))
        let first = limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: t0)
        let booked = limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: t0)
        limiter.complete(first, outcome: .rateLimited, signal: RateLimitSignal(retryAfter: 2), now: t0.addingTimeInterval(0.05))
        #expect(limiter.mustRebook(booked, now: booked.startAt))
        limiter.cancel(booked)
        let rebooked = limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: booked.startAt)
        #expect(rebooked.startAt >= t0.addingTimeInterval(2.05))
        #expect(!limiter.mustRebook(rebooked, now: rebooked.startAt))
    }

    @Test func tokensReserveThePromptAndTheLearnedReplyAndReconcile() {
        var limiter = RateLimiter(limits: RateLimits(tokensPerMinute: 60_000))
        let rate = 60_000.0 / 60 * 0.99
        // No reply seen yet and no max_tokens: the prompt plus the default 256.
        let first = limiter.reserve(promptTokens: 100, maxReplyTokens: nil, now: t0)
        #expect(first.reservedTokens == 356)
        let second = limiter.reserve(promptTokens: 100, maxReplyTokens: nil, now: t0)
        #expect(abs(second.startAt.timeIntervalSince(t0) - 356 / rate) < 1e-6)
        // The first reply used 113 tokens in all (13 of reply): later calls reserve the reply
        // size seen, not 256, and the schedule is redrawn — the call booked by the old estimate
        // books again, and no call is in flight to count.
        limiter.complete(first, outcome: .succeeded(usedTokens: 113, replyTokens: 13), signal: nil, now: t0)
        #expect(limiter.expectedReplyTokens == 13)
        #expect(limiter.shouldRebook(second, now: t0))
        limiter.cancel(second)
        var third = limiter.reserve(promptTokens: 100, maxReplyTokens: 4_096, now: t0)
        #expect(third.reservedTokens == 113)
        #expect(third.startAt == t0)
        let fourth = limiter.reserve(promptTokens: 100, maxReplyTokens: 4_096, now: t0)
        #expect(abs(fourth.startAt.timeIntervalSince(t0) - 113 / rate) < 1e-6)
        // Within an epoch, a call's real usage is reconciled when it ends.
        #expect(limiter.begin(&third, now: t0) == nil)
        // The provider counted 110 for a prompt we estimated at 100: later prompts are scaled,
        // and the 10 tokens more than reserved push the schedule.
        limiter.complete(third, outcome: .succeeded(usedTokens: 123, replyTokens: 13), signal: nil, now: t0)
        #expect(abs(limiter.promptScale - 1.1) < 1e-9)
        let next = limiter.reserve(promptTokens: 0, maxReplyTokens: 0, now: t0)
        #expect(abs(next.startAt.timeIntervalSince(t0) - (123 + 113) / rate) < 1e-6)
        #expect(abs(limiter.reserve(promptTokens: 100, maxReplyTokens: nil, now: t0).reservedTokens - 123) < 1e-9)
        // A max_tokens below what replies use caps the reservation.
        #expect(abs(limiter.reserve(promptTokens: 100, maxReplyTokens: 5, now: t0).reservedTokens - 115) < 1e-9)
    }

    @Test func callsBookedBeforeRepliesShowedTheRealCostBookAgain() {
        var limiter = RateLimiter(limits: RateLimits(tokensPerMinute: 60_000))
        let first = limiter.reserve(promptTokens: 100, maxReplyTokens: nil, now: t0)
        let waiting = limiter.reserve(promptTokens: 100, maxReplyTokens: nil, now: t0)
        #expect(!limiter.shouldRebook(waiting, now: t0))
        limiter.complete(first, outcome: .succeeded(usedTokens: 113, replyTokens: 13), signal: nil, now: t0)
        #expect(limiter.shouldRebook(waiting, now: t0), "it reserved 356 tokens where 113 are used")
        limiter.cancel(waiting)
        let again = limiter.reserve(promptTokens: 100, maxReplyTokens: nil, now: t0)
        #expect(again.reservedTokens == 113 && !limiter.shouldRebook(again, now: t0))
        // A small drift does not churn the schedule.
        limiter.complete(again, outcome: .succeeded(usedTokens: 114, replyTokens: 14), signal: nil, now: t0)
        #expect(!limiter.shouldRebook(again, now: t0))
    }

    @Test func callsWithoutReplyTokensDoNotRedrawTheScheduleEachTime() {
        // Embeddings: the reply costs nothing, every time.
        var limiter = RateLimiter(limits: RateLimits(tokensPerMinute: 60_000))
        let first = limiter.reserve(promptTokens: 15, maxReplyTokens: 0, now: t0)
        limiter.complete(first, outcome: .succeeded(usedTokens: 14, replyTokens: 0), signal: nil, now: t0)
        let epoch = limiter.estimateEpoch
        for _ in 0..<20 {
            let permit = limiter.reserve(promptTokens: 15, maxReplyTokens: 0, now: t0)
            #expect(permit.reservedTokens < 16, "the prompt alone")
            limiter.complete(permit, outcome: .succeeded(usedTokens: 14, replyTokens: 0), signal: nil, now: t0)
        }
        #expect(limiter.estimateEpoch == epoch, "an unchanged estimate of no reply tokens is no reason to book again")
    }

    @Test func aLongReplyRaisesTheReservationAtOnceAndShortOnesLowerItGradually() {
        var limiter = RateLimiter(limits: RateLimits(tokensPerMinute: 60_000))
        let permit = limiter.reserve(promptTokens: 10, maxReplyTokens: nil, now: t0)
        limiter.complete(permit, outcome: .succeeded(usedTokens: 110, replyTokens: 100), signal: nil, now: t0)
        limiter.complete(permit, outcome: .succeeded(usedTokens: 410, replyTokens: 400), signal: nil, now: t0)
        #expect(limiter.expectedReplyTokens == 400)
        limiter.complete(permit, outcome: .succeeded(usedTokens: 110, replyTokens: 100), signal: nil, now: t0)
        let expected = limiter.expectedReplyTokens ?? 0
        #expect(expected < 400 && expected > 100)
    }

    @Test func remainingIsSpentAsCreditLessWhatWasStartedSince() {
        var limiter = RateLimiter(limits: RateLimits(requestsPerMinute: 600))
        let first = limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: t0)
        // Two more paced calls start, the second within the header lag of the reply.
        _ = limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: t0)
        let recent = limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: t0)
        let replyAt = recent.startAt.addingTimeInterval(0.05)
        answer(first, &limiter, remaining: 500, resetIn: 30, at: replyAt)
        #expect(limiter.credit == RateLimiter.Credit(calls: 499, until: replyAt.addingTimeInterval(30)))
        // Credit starts calls at once, unpaced, until it is spent.
        for _ in 0..<499 {
            let permit = limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: replyAt)
            #expect(permit.startAt == replyAt && permit.onCredit)
        }
        var paced = limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: replyAt)
        let spaced = replyAt.addingTimeInterval(60.0 / 594)
        #expect(!paced.onCredit && limiter.begin(&paced, now: paced.startAt) == spaced, "a refill interval after the burst")
        #expect(limiter.begin(&paced, now: spaced) == nil)
        #expect(paced.probe, "spent credit: paced, assuming the provider refills")
    }

    @Test func aCallOrTwoLeftIsNotABurstButABurstIsSpentToTheEnd() {
        var limiter = RateLimiter(limits: RateLimits(requestsPerMinute: 600))
        let first = limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: t0)
        let at = t0.addingTimeInterval(1)
        answer(first, &limiter, remaining: 2, resetIn: 60, at: at)
        #expect(!limiter.hasCredit(now: at))
        #expect(!limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: at).onCredit)
        answer(first, &limiter, remaining: 5, resetIn: 60, at: at)
        // Five left, less the paced call just started: four, spent to the last.
        let burst = (0..<4).map { _ in limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: at) }
        #expect(burst.allSatisfy { $0.onCredit })
        #expect(!limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: at).onCredit)
    }

    @Test func a429OnACreditCallMeansBurstsAreRefused() {
        var limiter = RateLimiter(limits: RateLimits(requestsPerMinute: 600))
        let first = limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: t0)
        let at = t0.addingTimeInterval(0.4)
        answer(first, &limiter, remaining: 599, resetIn: 0.1, at: at)
        let burst = limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: at)
        #expect(burst.onCredit)
        limiter.complete(
            burst, outcome: .rateLimited, signal: RateLimitSignal(retryAfter: 1, requests: .init(limit: 600, remaining: 0, resetIn: 0.6)),
            now: at.addingTimeInterval(0.01))
        #expect(!limiter.burstsAllowed && limiter.credit == nil)
        #expect(limiter.requestRate == 600.0 / 60 * 0.99, "the limit is reported, so no cut")
        // From now on: evenly paced, and remaining: 0 waits for the reset or the next paced slot.
        let resumed = at.addingTimeInterval(1.01)
        let starts = drive(&limiter, seconds: 5, from: resumed)
        let gaps = zip(starts.dropFirst(), starts).map { $0.timeIntervalSince($1) }
        #expect(gaps.allSatisfy { abs($0 - 60.0 / 594) < 1e-6 })
        let last = limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: resumed)
        answer(last, &limiter, remaining: 0, resetIn: 0.05, at: resumed)
        #expect(limiter.blockedUntil == resumed.addingTimeInterval(0.05))
        answer(last, &limiter, remaining: 0, resetIn: 60, at: resumed)
        #expect(limiter.blockedUntil == resumed.addingTimeInterval(60.0 / 594), "a bucket reports the time until it is full")
    }

    @Test func a429OnAPacedProbeMeansSpentCreditWaitsForTheReset() {
        var limiter = RateLimiter(limits: RateLimits(requestsPerMinute: 600))
        let first = limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: t0)
        let at = t0.addingTimeInterval(0.4)
        answer(first, &limiter, remaining: 0, resetIn: 50, at: at)
        var probe = limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: at)
        #expect(limiter.begin(&probe, now: probe.startAt) == nil && probe.probe)
        limiter.complete(
            probe, outcome: .rateLimited, signal: RateLimitSignal(retryAfter: 50, requests: .init(limit: 600, remaining: 0, resetIn: 50)),
            now: at.addingTimeInterval(0.1))
        #expect(limiter.burstsAllowed && !limiter.refillsBeforeReset)
        // A call booked before the credit was spent waits for the reset when it comes to start.
        var booked = limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: at.addingTimeInterval(0.2))
        limiter.complete(
            probe, outcome: .succeeded(usedTokens: nil, replyTokens: nil),
            signal: RateLimitSignal(requests: .init(limit: 600, remaining: 0, resetIn: 0.5)), now: at.addingTimeInterval(0.2))
        #expect(limiter.begin(&booked, now: at.addingTimeInterval(0.3)) == at.addingTimeInterval(0.7))
        // A later header with nothing left: the next call waits for that window's reset.
        let later = at.addingTimeInterval(60)
        let paced = limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: later)
        answer(paced, &limiter, remaining: 0, resetIn: 20, at: later)
        #expect(limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: later).startAt >= later.addingTimeInterval(20))
        // With credit again, it bursts again: the window allows it.
        let next = limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: later.addingTimeInterval(21))
        answer(next, &limiter, remaining: 300, resetIn: 20, at: later.addingTimeInterval(22))
        #expect(limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: later.addingTimeInterval(22)).onCredit)
    }

    @Test func headersLowerAWronglyConfiguredLimit() {
        var limiter = RateLimiter(limits: RateLimits(requestsPerMinute: 1_200))
        let permit = limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: t0)
        let signal = RateLimitSignal(requests: .init(limit: 600, remaining: 599, resetIn: 0.1))
        limiter.complete(permit, outcome: .succeeded(usedTokens: nil, replyTokens: nil), signal: signal, now: t0)
        #expect(limiter.requestCeiling == 600.0 / 60 * 0.99)
        #expect(limiter.requestRate == limiter.requestCeiling)
    }

    @Test func aReadingSaysWhereTheLimitCameFrom() {
        func near(_ value: Double?, _ expected: Double) -> Bool { value.map { abs($0 - expected) < 1e-6 } == true }
        var unknown = RateLimiter(limits: RateLimits())
        #expect(unknown.reading(now: t0) == LimitReading(source: .unknown))
        // No limit stated and a 429 on the 11th call in a second: learned, cut below what drew it.
        for step in 0..<10 {
            let permit = unknown.reserve(promptTokens: 1, maxReplyTokens: 0, now: t0.addingTimeInterval(Double(step) / 10))
            var started = permit
            _ = unknown.begin(&started, now: permit.startAt)
        }
        let refused = unknown.reserve(promptTokens: 1, maxReplyTokens: 0, now: t0.addingTimeInterval(1))
        unknown.complete(refused, outcome: .rateLimited, signal: RateLimitSignal(retryAfter: 3), now: t0.addingTimeInterval(1))
        let learned = unknown.reading(now: t0.addingTimeInterval(1))
        #expect(learned.source == .learned)
        #expect(near(learned.requestsPerMinute, 660), "the 11 calls of the second that drew it: \(learned)")
        #expect(near(learned.pacedRequestsPerMinute, 660 * 0.85), "paced below it")
        #expect(learned.blockedUntil == t0.addingTimeInterval(4))
        #expect(unknown.reading(now: t0.addingTimeInterval(5)).blockedUntil == nil, "a passed block is not shown")

        var configured = RateLimiter(limits: RateLimits(requestsPerMinute: 1_000, tokensPerMinute: 100_000, reserve: 0.2))
        let told = configured.reading(now: t0)
        #expect(
            told.source == .configured && near(told.requestsPerMinute, 1_000 * 0.99 * 0.8)
                && near(told.tokensPerMinute, 100_000 * 0.99 * 0.8))
        #expect(!told.burstsAllowed, "a reserve paces from the start")
        let permit = configured.reserve(promptTokens: 1, maxReplyTokens: 0, now: t0)
        configured.complete(
            permit, outcome: .succeeded(usedTokens: nil, replyTokens: nil),
            signal: RateLimitSignal(requests: .init(limit: 600, remaining: 599, resetIn: 0.1)), now: t0)
        let reported = configured.reading(now: t0)
        #expect(
            reported.source == .reported && near(reported.requestsPerMinute, 600 * 0.99 * 0.8), "the headers' lower limit, less the reserve"
        )
    }

    @Test func a429WhileHeadersReportTheLimitBlocksWithoutCutting() {
        var limiter = RateLimiter(limits: RateLimits(requestsPerMinute: 1_200))
        let early = limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: t0)
        let synced = limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: t0.addingTimeInterval(0.1))
        limiter.complete(
            synced, outcome: .succeeded(usedTokens: nil, replyTokens: nil), signal: RateLimitSignal(requests: .init(limit: 600)),
            now: t0.addingTimeInterval(0.4))
        limiter.complete(early, outcome: .rateLimited, signal: RateLimitSignal(retryAfter: 1), now: t0.addingTimeInterval(0.5))
        #expect(limiter.requestRate == 600.0 / 60 * 0.99, "paced at the real limit, not below it")
        #expect(limiter.blockedUntil == t0.addingTimeInterval(1.5), "but everyone still waits out the 429")
    }

    @Test func noTokensRemainingBlocksUntilTheReset() {
        var limiter = RateLimiter(limits: RateLimits())
        let permit = limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: t0)
        limiter.complete(
            permit, outcome: .succeeded(usedTokens: nil, replyTokens: nil),
            signal: RateLimitSignal(tokens: .init(remaining: 0, resetIn: 12)), now: t0)
        #expect(limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: t0.addingTimeInterval(5)).startAt == t0.addingTimeInterval(12))
    }

    @Test func a429BlocksEveryoneCutsOnceAndRecoversAdditively() {
        var limiter = RateLimiter(limits: RateLimits(requestsPerMinute: 600))
        let ceiling = 600.0 / 60 * 0.99
        let permits = (0..<3).map { _ in limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: t0) }
        let now = permits[2].startAt
        // Three calls in flight all come back 429: one episode, one cut.
        for permit in permits {
            limiter.complete(permit, outcome: .rateLimited, signal: RateLimitSignal(retryAfter: 5), now: now)
        }
        #expect(limiter.requestRate == ceiling * 0.85)
        #expect(limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: now.addingTimeInterval(1)).startAt == now.addingTimeInterval(5))
        // Growth waits out the hold, then adds 5% of the ceiling per minute.
        var later = now.addingTimeInterval(6)
        let next = limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: later)
        limiter.complete(next, outcome: .succeeded(usedTokens: nil, replyTokens: nil), signal: nil, now: later)
        #expect(limiter.requestRate == ceiling * 0.85, "still holding after the cut")
        later = now.addingTimeInterval(70)
        let grown = limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: later)
        limiter.complete(grown, outcome: .succeeded(usedTokens: nil, replyTokens: nil), signal: nil, now: later)
        let rate = limiter.requestRate ?? 0
        #expect(rate > ceiling * 0.85 && rate <= ceiling)
    }

    @Test func anUnknownLimitIsFoundFromTheRateThatDrewA429() {
        var limiter = RateLimiter(limits: RateLimits())
        #expect(limiter.requestRate == nil)
        let permits = (0..<20).map { step in
            limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: t0.addingTimeInterval(Double(step) * 0.05))
        }
        #expect(permits.allSatisfy { !$0.onCredit })
        limiter.complete(permits[0], outcome: .rateLimited, signal: nil, now: t0.addingTimeInterval(1))
        let rate = limiter.requestRate ?? 0
        #expect(rate > 15 && rate < 25, "20 calls in about a second, cut by 15%: \(rate)")
    }
}

@Suite struct CircuitBreakerTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func opensAfterConsecutiveFailuresThenProbesOnce() {
        var breaker = CircuitBreaker(configuration: .init(failureThreshold: 3, coolDown: 30))
        breaker.record(success: false, now: t0)
        breaker.record(success: true, now: t0)
        breaker.record(success: false, now: t0)
        breaker.record(success: false, now: t0)
        #expect(breaker.availableAt(now: t0) == nil, "two in a row is not yet three")
        breaker.record(success: false, now: t0)
        #expect(breaker.state == .open(until: t0.addingTimeInterval(30)))
        #expect(breaker.availableAt(now: t0.addingTimeInterval(29)) == t0.addingTimeInterval(30))
        // Cooled down: one probe goes, the rest wait for it.
        #expect(breaker.availableAt(now: t0.addingTimeInterval(30)) == nil)
        breaker.admit()
        #expect(breaker.availableAt(now: t0.addingTimeInterval(30)) != nil)
        breaker.record(success: false, now: t0.addingTimeInterval(31))
        #expect(breaker.state == .open(until: t0.addingTimeInterval(61)))
        #expect(breaker.availableAt(now: t0.addingTimeInterval(61)) == nil)
        breaker.admit()
        breaker.record(success: true, now: t0.addingTimeInterval(62))
        #expect(breaker.state == .closed(consecutiveFailures: 0))
    }

    @Test func aFailureOfACallStartedBeforeTheLastSuccessDoesNotCount() {
        var breaker = CircuitBreaker(configuration: .init(failureThreshold: 2, coolDown: 30))
        breaker.record(success: true, startedAt: t0.addingTimeInterval(1), now: t0.addingTimeInterval(2))
        // Calls that hung since t0 fail together long after a newer call succeeded.
        for second in 30..<40 {
            breaker.record(success: false, startedAt: t0, now: t0.addingTimeInterval(Double(second)))
        }
        #expect(breaker.state == .closed(consecutiveFailures: 0))
        breaker.record(success: false, startedAt: t0.addingTimeInterval(3), now: t0.addingTimeInterval(41))
        breaker.record(success: false, startedAt: t0.addingTimeInterval(3), now: t0.addingTimeInterval(41))
        #expect(breaker.state == .open(until: t0.addingTimeInterval(71)), "failures of newer calls still open it")
    }

    @Test func aCancelledProbeLetsAnotherGo() {
        var breaker = CircuitBreaker(configuration: .init(failureThreshold: 1, coolDown: 1))
        breaker.record(success: false, now: t0)
        #expect(breaker.availableAt(now: t0.addingTimeInterval(1)) == nil)
        breaker.admit()
        breaker.cancel()
        #expect(breaker.availableAt(now: t0.addingTimeInterval(1)) == nil)
    }
}

@Suite struct ProviderFailureTests {
    @Test(arguments: [
        (429, nil, "rateLimited"), (401, nil, "unauthorized"), (403, nil, "unauthorized"), (408, nil, "transient"),
        (409, nil, "transient"), (500, nil, "transient"), (503, nil, "transient"), (400, nil, "rejected"), (404, nil, "rejected"),
        (422, nil, "rejected"), (429, "resource_unavailable", "unavailable"), (498, "capacity_exceeded", "unavailable"),
        (429, "rate_limit_exceeded", "rateLimited"),
    ])
    func classifiesStatusCodes(status: Int, code: String?, kind: String) {
        let failure = ProviderFailure.classify(status: status, message: "m", code: code, signal: RateLimitSignal())
        let actual: String =
            switch failure {
            case .rateLimited: "rateLimited"
            case .unauthorized: "unauthorized"
            case .transient: "transient"
            case .rejected: "rejected"
            case .unavailable: "unavailable"
            }
        #expect(actual == kind)
        // Only a rejection keeps the provider's text; the others say their class.
        #expect(failure.message.hasPrefix("HTTP \(status): ") && (failure.message == "HTTP \(status): m") == (kind == "rejected"))
    }
}

@Suite struct CallLatencyTests {
    @Test func overdueIsFourTimesTheNinetiethPercentileAndNeverBelowTheFloor() {
        var latency = CallLatency()
        for _ in 0..<9 { latency.record(seconds: 0.4) }
        #expect(latency.overdueAfter == nil, "too few calls to say")
        latency.record(seconds: 0.4)
        #expect(latency.overdueAfter == 5, "4 × 0.4 s is below the 5 s floor")
        for _ in 0..<100 { latency.record(seconds: 20) }
        #expect(latency.overdueAfter == 80, "a slow model is not a hung one")
        #expect(latency.recent.count == 110)
        for _ in 0..<200 { latency.record(seconds: 1) }
        #expect(latency.recent.count == 128 && latency.overdueAfter == 5)
    }
}

/// `limits.reserve`: a share of every limit left for others sharing the key.
@Suite struct RateLimitReserveTests {
    let t0 = Date(timeIntervalSince1970: 1_000_000)

    /// Drives calls for `seconds` against a provider counting a sliding minute of 600 calls,
    /// reporting the limit and what is left in headers as each call ends, 0.2 s after it starts.
    /// Someone else on the same key either holds `others` calls of every minute in the window
    /// throughout (so the window's `reset` is when *our* oldest call leaves), or — `interleaved`
    /// — sends `others` calls a minute evenly among ours from a minute before our first (so
    /// `reset` is when the oldest call of either leaves: a spent window frees a call at a time,
    /// a fraction of a second apart). Returns our start times.
    func drive(_ limiter: inout RateLimiter, seconds: Double, others: Double = 0, interleaved: Bool = false) -> [Date] {
        var now = t0
        var starts: [Date] = []
        let theirs = interleaved ? stride(from: -60.0, to: seconds, by: 60 / others).map { t0.addingTimeInterval($0) } : []
        let held = interleaved ? 0 : others
        let end = t0.addingTimeInterval(seconds)
        while now < end {
            var permit = limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: now)
            now = max(now, permit.startAt)
            while let later = limiter.begin(&permit, now: now) { now = later }
            guard now < end else { break }
            starts.append(now)
            let window = (starts + theirs.filter { $0 <= now }).filter { $0 > now.addingTimeInterval(-60) }
            let reset = 60 - now.timeIntervalSince(window.min() ?? now)
            let signal = RateLimitSignal(requests: .init(limit: 600, remaining: 600 - Double(window.count) - held, resetIn: reset))
            limiter.complete(
                permit, outcome: .succeeded(usedTokens: nil, replyTokens: nil), signal: signal, now: now.addingTimeInterval(0.2))
        }
        return starts
    }

    func busiestMinute(_ starts: [Date]) -> Int {
        starts.map { start in starts.count { $0 >= start && $0 < start.addingTimeInterval(60) } }.max() ?? 0
    }

    @Test(arguments: [RateLimits(requestsPerMinute: 600, reserve: 0.25), RateLimits(reserve: 0.25)])
    func aQuarterReservedLeavesAQuarterOfEveryMinuteUnused(limits: RateLimits) {
        var limiter = RateLimiter(limits: limits)
        let starts = drive(&limiter, seconds: 180)
        #expect(busiestMinute(starts) <= 450, "configured or reported, 600 a minute is 450 for us")
        #expect(starts.count >= 3 * 440 - 10, "and the rest is used: \(starts.count) in 3 minutes")
        #expect(!limiter.burstsAllowed, "no bursts on credit: they would spend the reserve")
    }

    @Test func whatOthersSpendComesOutOfOursNotTheReserve() {
        // The chat app spends 300 of the 600: 150 are reserved, so 150 are ours.
        var limiter = RateLimiter(limits: RateLimits(reserve: 0.25))
        let starts = drive(&limiter, seconds: 180, others: 300)
        #expect(busiestMinute(starts) <= 150, "\(busiestMinute(starts))")
    }

    @Test func othersCallingAmongOurCallsSlowUsToWhatTheyLeave() {
        // The chat app sends 300 a minute among ours; the window frees a call at a time.
        var limiter = RateLimiter(limits: RateLimits(reserve: 0.25))
        let starts = drive(&limiter, seconds: 180, others: 300, interleaved: true)
        #expect(busiestMinute(starts) <= 150, "\(busiestMinute(starts))")
        #expect(starts.count >= 3 * 140, "and what they leave is used: \(starts.count) in 3 minutes")
    }

    @Test func untilTheFirstReplyOneCallGoesAtATime() {
        var limiter = RateLimiter(limits: RateLimits(reserve: 0.25))
        var permits = (0..<8).map { _ in limiter.reserve(promptTokens: 1, maxReplyTokens: 0, now: t0) }
        #expect(limiter.begin(&permits[0], now: t0) == nil)
        #expect(limiter.begin(&permits[1], now: t0) != nil, "the limit is unknown until a reply says it")
        limiter.complete(permits[0], outcome: .succeeded(usedTokens: nil, replyTokens: nil), signal: nil, now: t0)
        #expect(limiter.begin(&permits[1], now: t0) == nil && limiter.begin(&permits[2], now: t0) == nil)
        // Without a reserve, nothing waits for a first reply.
        var plain = RateLimiter(limits: RateLimits())
        var two = (0..<2).map { _ in plain.reserve(promptTokens: 1, maxReplyTokens: 0, now: t0) }
        #expect(plain.begin(&two[0], now: t0) == nil && plain.begin(&two[1], now: t0) == nil)
    }
}

/// A key's quota, decided per claim.
@Suite struct KeyQuotaTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)  // 2027-01-15T08:00:00Z

    @Test func aClaimTakesOnlyWhatFitsBesideTheCallsInFlight() {
        let quota = KeyQuota(tokensPerDay: 100)
        let perItem = KeyQuota.PerItem(tokens: 15)
        // 40 spent, 2 running at 15: 30 left, two items.
        #expect(quota.decide(.init(tokensToday: 40), perItem: perItem, running: 2, requested: 10, now: now) == .claim(2))
        // 80 spent, 1 running: 5 left, none fits; wait for the running one.
        #expect(quota.decide(.init(tokensToday: 80), perItem: perItem, running: 1, requested: 10, now: now) == .wait)
        // Nothing running and none fits: pause until tomorrow, nearly reached.
        guard case .pause(let nearly) = quota.decide(.init(tokensToday: 90), perItem: perItem, running: 0, requested: 10, now: now)
        else { Issue.record("expected a pause"); return }
        #expect(nearly.reason.hasPrefix("quota:") && nearly.reason.contains("nearly reached") && nearly.until == UsageWindow(now).dayEnd)
        // Before any item finished, the cost of one is unknown: the claim goes on.
        #expect(quota.decide(.init(tokensToday: 40), perItem: .init(), running: 5, requested: 10, now: now) == .claim(10))
    }

    @Test func aReachedMonthlyLimitHoldsUntilTheMonthRollsWhateverTheDay() {
        let quota = KeyQuota(tokensPerDay: 1_000, costMicrosPerMonth: 5_000_000)
        let spent = KeyQuota.Spent(tokensToday: 2_000, costMicrosThisMonth: 5_000_000)
        guard case .pause(let reached) = quota.decide(spent, perItem: .init(), running: 0, requested: 1, now: now) else {
            Issue.record("expected a pause")
            return
        }
        #expect(reached.reason.contains("$5.00 USD per month is reached") && reached.until == UsageWindow(now).monthEnd)
        #expect(UsageWindow(now).day == "2027-01-15" && UsageWindow(now).monthStart == "2027-01-01")
        #expect(UsageWindow(now).monthEnd == Date(timeIntervalSince1970: 1_801_440_000))  // 2027-02-01T00:00:00Z
        #expect(quota.summary == "1000 tokens/day, $5.00/month" && KeyQuota().summary == "-")
    }
}
