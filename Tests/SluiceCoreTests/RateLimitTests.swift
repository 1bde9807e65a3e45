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

    /// Starts calls as fast as the limiter allows for `seconds`, completing each at once.
    func drive(_ limiter: inout RateLimiter, seconds: Double, tokens: Double = 1) -> [Date] {
        var now = t0
        var starts: [Date] = []
        while now < t0.addingTimeInterval(seconds) {
            switch limiter.acquire(tokens: tokens, now: now) {
            case .proceed(let permit):
                starts.append(now)
                limiter.complete(permit, outcome: .succeeded(usedTokens: nil), signal: nil, now: now)
            case .wait(let until): now = until
            case .waitForCompletion: Issue.record("no call is in flight")
            }
        }
        return starts
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

    @Test func tokensPerMinuteReserveTheEstimateAndReconcile() {
        var limiter = RateLimiter(limits: RateLimits(tokensPerMinute: 60_000))
        guard case .proceed(let first) = limiter.acquire(tokens: 1_000, now: t0) else { Issue.record(); return }
        // 1,000 tokens at 990 tokens/s: the next call waits about a second...
        guard case .wait(let until) = limiter.acquire(tokens: 1_000, now: t0) else { Issue.record(); return }
        #expect(abs(until.timeIntervalSince(t0) - 1_000 / 990) < 1e-6)
        // ...unless the call used far fewer tokens than reserved.
        limiter.complete(first, outcome: .succeeded(usedTokens: 100), signal: nil, now: t0)
        guard case .wait(let sooner) = limiter.acquire(tokens: 1_000, now: t0) else { Issue.record(); return }
        #expect(abs(sooner.timeIntervalSince(t0) - 100 / 990) < 1e-6)
    }

    @Test func capsCallsInFlight() {
        var limiter = RateLimiter(limits: RateLimits(maxInFlight: 2))
        guard case .proceed(let first) = limiter.acquire(tokens: 1, now: t0) else { Issue.record(); return }
        guard case .proceed = limiter.acquire(tokens: 1, now: t0) else { Issue.record(); return }
        #expect(limiter.acquire(tokens: 1, now: t0) == .waitForCompletion)
        limiter.complete(first, outcome: .failed, signal: nil, now: t0)
        guard case .proceed = limiter.acquire(tokens: 1, now: t0) else { Issue.record(); return }
    }

    @Test func headersLowerAWronglyConfiguredLimit() {
        var limiter = RateLimiter(limits: RateLimits(requestsPerMinute: 1_200))
        guard case .proceed(let permit) = limiter.acquire(tokens: 1, now: t0) else { Issue.record(); return }
        let signal = RateLimitSignal(requests: .init(limit: 600, remaining: 599, resetIn: 0.1))
        limiter.complete(permit, outcome: .succeeded(usedTokens: nil), signal: signal, now: t0)
        #expect(limiter.requestCeiling == 600.0 / 60 * 0.99)
        #expect(limiter.requestRate == limiter.requestCeiling)
    }

    @Test func a429WhileHeadersReportTheLimitBlocksWithoutCutting() {
        var limiter = RateLimiter(limits: RateLimits(requestsPerMinute: 1_200))
        guard case .proceed(let early) = limiter.acquire(tokens: 1, now: t0) else { Issue.record(); return }
        guard case .proceed(let synced) = limiter.acquire(tokens: 1, now: t0.addingTimeInterval(0.1)) else { Issue.record(); return }
        limiter.complete(
            synced, outcome: .succeeded(usedTokens: nil), signal: RateLimitSignal(requests: .init(limit: 600)),
            now: t0.addingTimeInterval(0.4))
        limiter.complete(early, outcome: .rateLimited, signal: RateLimitSignal(retryAfter: 1), now: t0.addingTimeInterval(0.5))
        #expect(limiter.requestRate == 600.0 / 60 * 0.99, "paced at the real limit, not below it")
        #expect(limiter.blockedUntil == t0.addingTimeInterval(1.5), "but everyone still waits out the 429")
    }

    @Test func noneRemainingBlocksUntilTheReset() {
        var limiter = RateLimiter(limits: RateLimits())
        guard case .proceed(let permit) = limiter.acquire(tokens: 1, now: t0) else { Issue.record(); return }
        limiter.complete(
            permit, outcome: .succeeded(usedTokens: nil), signal: RateLimitSignal(tokens: .init(remaining: 0, resetIn: 12)), now: t0)
        #expect(limiter.acquire(tokens: 1, now: t0.addingTimeInterval(5)) == .wait(until: t0.addingTimeInterval(12)))
    }

    @Test func a429BlocksEveryoneCutsOnceAndRecoversAdditively() {
        var limiter = RateLimiter(limits: RateLimits(requestsPerMinute: 600))
        let ceiling = 600.0 / 60 * 0.99
        var permits: [RateLimiter.Permit] = []
        var now = t0
        while permits.count < 3 {
            switch limiter.acquire(tokens: 1, now: now) {
            case .proceed(let permit): permits.append(permit)
            case .wait(let until): now = until
            case .waitForCompletion: Issue.record()
            }
        }
        // Three calls in flight all come back 429: one episode, one cut.
        for permit in permits {
            limiter.complete(permit, outcome: .rateLimited, signal: RateLimitSignal(retryAfter: 5), now: now)
        }
        #expect(limiter.requestRate == ceiling * 0.85)
        #expect(limiter.acquire(tokens: 1, now: now.addingTimeInterval(1)) == .wait(until: now.addingTimeInterval(5)))
        // Growth waits out the hold, then adds 5% of the ceiling per minute.
        var later = now.addingTimeInterval(5)
        _ = drive(&limiter, seconds: 0)
        guard case .proceed(let next) = limiter.acquire(tokens: 1, now: later) else { Issue.record(); return }
        limiter.complete(next, outcome: .succeeded(usedTokens: nil), signal: nil, now: later)
        #expect(limiter.requestRate == ceiling * 0.85, "still holding after the cut")
        later = now.addingTimeInterval(70)
        guard case .proceed(let grown) = limiter.acquire(tokens: 1, now: later) else { Issue.record(); return }
        limiter.complete(grown, outcome: .succeeded(usedTokens: nil), signal: nil, now: later)
        let rate = limiter.requestRate ?? 0
        #expect(rate > ceiling * 0.85 && rate <= ceiling)
    }

    @Test func anUnknownLimitIsFoundFromTheRateThatDrewA429() {
        var limiter = RateLimiter(limits: RateLimits())
        #expect(limiter.requestRate == nil)
        var permits: [RateLimiter.Permit] = []
        for step in 0..<20 {
            guard case .proceed(let permit) = limiter.acquire(tokens: 1, now: t0.addingTimeInterval(Double(step) * 0.05)) else {
                Issue.record()
                return
            }
            permits.append(permit)
        }
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
        (429, "rateLimited"), (401, "unauthorized"), (403, "unauthorized"), (408, "transient"), (409, "transient"), (500, "transient"),
        (503, "transient"), (400, "rejected"), (404, "rejected"), (422, "rejected"),
    ])
    func classifiesStatusCodes(status: Int, kind: String) {
        let failure = ProviderFailure.classify(status: status, message: "m", signal: RateLimitSignal())
        let actual: String =
            switch failure {
            case .rateLimited: "rateLimited"
            case .unauthorized: "unauthorized"
            case .transient: "transient"
            case .rejected: "rejected"
            }
        #expect(actual == kind)
        #expect(failure.message == "HTTP \(status): m")
    }
}
