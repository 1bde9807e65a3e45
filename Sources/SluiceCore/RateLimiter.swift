import Foundation

/// Limits configured for one provider (or one key and model).
public struct RateLimits: Sendable, Equatable {
    public var requestsPerMinute: Double?
    public var tokensPerMinute: Double?
    /// Calls in flight at once to this provider, across all jobs of the process.
    public var maxInFlight: Int?

    public init(requestsPerMinute: Double? = nil, tokensPerMinute: Double? = nil, maxInFlight: Int? = nil) {
        self.requestsPerMinute = requestsPerMinute
        self.tokensPerMinute = tokensPerMinute
        self.maxInFlight = maxInFlight
    }
}

/// Decides when the next call to a provider may start, so that calls stay under its limits
/// instead of being answered with 429s.
///
/// Pure and clock-free: every event carries `now`. Requests and tokens are each paced with a
/// generic cell rate algorithm (a token bucket of depth one): call *n+1* may start `1/rate`
/// after call *n*, so a per-minute limit is never spent in a burst that a provider enforcing
/// it per second (as OpenAI does) would refuse. Headers only ever slow it down: bursting on a
/// "remaining" count risks exactly that per-second refusal.
///
/// It adapts. Limits reported in headers lower the ceiling to what the provider really allows;
/// `remaining: 0` blocks until the reset; a 429 blocks every caller until the provider's reset
/// and — unless headers are reporting the limit — cuts the rate multiplicatively, after which it
/// grows back additively, so an unknown or wrongly configured limit is found rather than hammered.
public struct RateLimiter: Sendable {
    public struct Tuning: Sendable, Equatable {
        /// Pace at this share of a known limit, leaving room for clock skew between us and them.
        public var safety = 0.99
        /// Factor applied to the rate on a 429.
        public var decrease = 0.85
        /// Growth per minute without a 429, as a share of the ceiling.
        public var recoveryPerMinute = 0.05
        /// Seconds after a cut before the rate may grow again.
        public var holdAfterCut = 10.0

        public init() {}
    }

    /// Leave to make one call; hand it back with ``complete(_:outcome:signal:now:)``.
    public struct Permit: Sendable, Equatable {
        public var reservedTokens: Double
    }

    public enum Decision: Sendable, Equatable {
        case proceed(Permit)
        /// Ask again at this time.
        case wait(until: Date)
        /// Too many calls in flight: ask again when one completes.
        case waitForCompletion
    }

    public enum Outcome: Sendable, Equatable {
        case succeeded(usedTokens: Int?)
        case rateLimited
        case failed
    }

    public let limits: RateLimits
    public let tuning: Tuning
    /// The highest request rate (per second) allowed: configured, or lower if headers say so.
    public private(set) var requestCeiling: Double?
    /// The rate calls are paced at now (≤ ceiling); `nil` while no limit is known.
    public private(set) var requestRate: Double?
    public private(set) var tokenCeiling: Double?
    public private(set) var tokenRate: Double?
    public private(set) var blockedUntil: Date?
    public private(set) var inFlight = 0
    var nextRequestAt: Date?
    var nextTokensAt: Date?
    var lastCut: Date?
    var lastGrowth: Date?
    /// When headers last stated the limit. While they do, the pace already matches what the
    /// provider says it allows and `remaining`/`reset` steer around other users of the key, so a
    /// 429 (an overshoot before the first headers arrived, say) blocks without cutting the rate.
    var limitReportedAt: Date?
    /// Start times of recent calls, to estimate the rate that drew a 429 when no limit was known.
    var recentStarts: [Date] = []

    public init(limits: RateLimits, tuning: Tuning = Tuning()) {
        self.limits = limits
        self.tuning = tuning
        requestCeiling = limits.requestsPerMinute.map { $0 / 60 * tuning.safety }
        requestRate = requestCeiling
        tokenCeiling = limits.tokensPerMinute.map { $0 / 60 * tuning.safety }
        tokenRate = tokenCeiling
    }

    /// Asks to start a call expected to use `tokens` (prompt estimate plus `max_tokens`).
    public mutating func acquire(tokens: Double, now: Date) -> Decision {
        if let blockedUntil, now < blockedUntil { return .wait(until: blockedUntil) }
        if let maximum = limits.maxInFlight, inFlight >= maximum { return .waitForCompletion }
        if requestRate != nil, let next = nextRequestAt, now < next { return .wait(until: next) }
        if tokenRate != nil, let next = nextTokensAt, now < next { return .wait(until: next) }
        inFlight += 1
        if let requestRate { nextRequestAt = max(nextRequestAt ?? now, now).addingTimeInterval(1 / requestRate) }
        if let tokenRate { nextTokensAt = max(nextTokensAt ?? now, now).addingTimeInterval(tokens / tokenRate) }
        recentStarts.append(now)
        if recentStarts.count > 256 { recentStarts.removeFirst(recentStarts.count - 256) }
        return .proceed(Permit(reservedTokens: tokens))
    }

    /// Hands back a permit whose call was never made.
    public mutating func cancel(_ permit: Permit) {
        inFlight = max(0, inFlight - 1)
    }

    /// Learns from a finished call: its outcome, and what its response headers said.
    public mutating func complete(_ permit: Permit, outcome: Outcome, signal: RateLimitSignal?, now: Date) {
        inFlight = max(0, inFlight - 1)
        if let signal { learn(from: signal, now: now) }
        switch outcome {
        case .succeeded(let used):
            if let used, let tokenRate, let next = nextTokensAt {
                nextTokensAt = next.addingTimeInterval((Double(used) - permit.reservedTokens) / tokenRate)
            }
            grow(now: now)
        case .rateLimited:
            block(until: now.addingTimeInterval(max(signal?.retryDelay ?? 1, 0.05)))
            if let reported = limitReportedAt, now.timeIntervalSince(reported) < 60 { break }
            cut(now: now)
        case .failed:
            break
        }
    }

    mutating func learn(from signal: RateLimitSignal, now: Date) {
        if let limit = signal.requests?.limit, limit > 0 {
            let ceiling = min(limits.requestsPerMinute ?? .infinity, limit) / 60 * tuning.safety
            requestCeiling = ceiling
            requestRate = min(requestRate ?? ceiling, ceiling)
            limitReportedAt = now
        }
        if let limit = signal.tokens?.limit, limit > 0 {
            let ceiling = min(limits.tokensPerMinute ?? .infinity, limit) / 60 * tuning.safety
            tokenCeiling = ceiling
            tokenRate = min(tokenRate ?? ceiling, ceiling)
        }
        for window in [signal.requests, signal.tokens].compactMap({ $0 }) {
            if let remaining = window.remaining, remaining < 1, let reset = window.resetIn {
                block(until: now.addingTimeInterval(reset))
            }
        }
    }

    mutating func block(until date: Date) {
        blockedUntil = max(blockedUntil ?? date, date)
        nextRequestAt = max(nextRequestAt ?? date, date)
    }

    /// One multiplicative cut per episode: the 429s of calls already in flight when the first
    /// one arrived describe the same overload.
    mutating func cut(now: Date) {
        if let lastCut, now.timeIntervalSince(lastCut) < tuning.holdAfterCut { return }
        lastCut = now
        lastGrowth = now
        let current = requestRate ?? observedRate(now: now)
        requestRate = max(current * tuning.decrease, 1.0 / 60)
        if requestCeiling == nil { requestCeiling = current }
        if let tokenRate { self.tokenRate = tokenRate * tuning.decrease }
    }

    mutating func grow(now: Date) {
        if let lastCut, now.timeIntervalSince(lastCut) < tuning.holdAfterCut { return }
        let since = lastGrowth.map { now.timeIntervalSince($0) } ?? 0
        lastGrowth = now
        if let ceiling = requestCeiling, let rate = requestRate, rate < ceiling {
            requestRate = min(ceiling, rate + ceiling * tuning.recoveryPerMinute * since / 60)
        }
        if let ceiling = tokenCeiling, let rate = tokenRate, rate < ceiling {
            tokenRate = min(ceiling, rate + ceiling * tuning.recoveryPerMinute * since / 60)
        }
    }

    /// Calls per second over the recent starts; a floor of one per second when there are too few.
    func observedRate(now: Date) -> Double {
        guard let first = recentStarts.first, recentStarts.count >= 2, now.timeIntervalSince(first) > 0 else { return 1 }
        return Double(recentStarts.count) / now.timeIntervalSince(first)
    }
}
