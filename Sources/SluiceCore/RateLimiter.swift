public import Foundation

/// Decides when each call to a provider may start, so that calls stay under its limits
/// instead of being answered with 429s — and use what the provider really allows.
///
/// Pure and clock-free: every event carries `now`. Each caller books its own start time (a
/// reservation): requests and tokens are each paced with a generic cell rate algorithm, call
/// *n+1* booked `1/rate` after call *n*, so waiters wake one by one at their own instant rather
/// than all together to race for one slot.
///
/// Providers enforce limits differently, and the limiter learns which kind it faces:
/// - Some hold a minute of requests in a bucket (a fresh key may send hundreds at once), some
///   count a sliding minute, some quantise per second. While bursts have not been refused, what
///   the latest `remaining` header says is left — less the calls started too recently to have
///   been counted — is spent at once, as credit, without pacing.
/// - A 429 on a call started on that credit means bursts are refused: from then on it paces
///   evenly, and `remaining: 0` blocks until the reset.
/// - With the credit spent, it first assumes the provider refills gradually (a bucket) and
///   paces; a 429 on such a paced call means nothing comes back before the reset (a window),
///   and from then on spent credit waits for the reset.
/// Limits reported in headers lower the ceiling to what the provider really allows; a 429
/// blocks every caller until the provider's reset and — unless headers are reporting the limit
/// — cuts the rate multiplicatively, after which it grows back additively, so an unknown or
/// wrongly configured limit is found rather than hammered.
///
/// A reserve (``RateLimits/reserve``) takes its share off every ceiling, configured, reported or
/// learned; calls are then paced evenly from the start (a burst on credit would spend what the
/// reserve keeps), what headers say is left counts only above the reserved share, the key's
/// other users' calls (the window's use less our own of the last minute) come off our pace, and
/// until the first reply (whose headers may state the limit) one call goes at a time.
///
/// Tokens are reserved as the prompt estimate plus the reply the provider is expected to write:
/// `max_tokens` until replies have been seen, then the larger of their recent average and the
/// last one, never above `max_tokens`. Each call's real usage is reconciled as it ends, so a
/// reservation that was too large comes back in time to be spent.
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
        /// Calls started this recently may not have reached the provider when it counted what
        /// `remaining` says, so they are taken off the credit.
        public var headerLag = 0.1
        /// The reply size assumed before any reply was seen, when the request sets no `max_tokens`.
        public var defaultReplyTokens = 256.0
        /// Credit smaller than this is not spent while the provider may refill between resets: a
        /// call or two left is what a paced run against a bucket sees all the time, and spending
        /// it alongside the paced calls draws 429s, not throughput. Against a window that only
        /// refills at its reset, every call left is spent.
        public var smallestBurst = 4.0
        /// With a reserve, how often a call held back until the first reply looks again.
        public var firstReplyPoll = 0.05

        public init() {}
    }

    /// One booked call: when it may start, and what it reserved. Hand it back with
    /// ``complete(_:outcome:signal:now:)``, or ``cancel(_:)`` if the call is not made.
    public struct Permit: Sendable, Equatable {
        public var startAt: Date
        public var reservedTokens: Double
        public var promptTokens: Double
        /// Started on credit from a `remaining` header rather than on the paced schedule.
        public var onCredit: Bool
        /// Paced while the credit was spent: a probe of whether the provider refills gradually.
        public var probe: Bool
        /// The ``RateLimiter/estimateEpoch`` it was booked under.
        public var epoch: Int
        /// Set by ``RateLimiter/begin(_:now:)`` when the call starts.
        public var started = false
        /// Its place on the request schedule, before tokens may have put the start later.
        var requestSlot: Date?
    }

    public enum Outcome: Sendable, Equatable {
        case succeeded(usedTokens: Int?, replyTokens: Int?)
        case rateLimited
        case failed
    }

    /// What the headers last said is left, less what was started since.
    public struct Credit: Sendable, Equatable {
        public var calls: Double
        /// The provider's reset: after it the count is stale.
        public var until: Date
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
    public private(set) var credit: Credit?
    /// Cleared by the first 429 on a call started on credit.
    public private(set) var burstsAllowed = true
    /// Cleared by the first 429 on a call paced while the credit was spent.
    public private(set) var refillsBeforeReset = true
    /// A burst is under way: credit is spent down to the last call, not only above
    /// ``Tuning/smallestBurst``.
    var spendingCredit = false
    /// The reply size reserved for a call without a smaller `max_tokens`; learned from replies.
    public private(set) var expectedReplyTokens: Double?
    /// What the provider counts for a prompt, per token of our estimate (its tokenizer and the
    /// request's framing differ from four characters a token); learned from replies.
    public private(set) var promptScale = 1.0
    /// Moves on when what a call is expected to cost changed by a fifth or more (the first
    /// replies, say): calls booked before it reserved the old amount and should book again,
    /// or the tokens they hoard keep the schedule long after replies showed they are not needed.
    public private(set) var estimateEpoch = 0
    /// The reply estimate and prompt scale the current epoch began with.
    var epochEstimate: (reply: Double?, scale: Double) = (nil, 1)
    /// The prompt estimate of the latest booking: what the next call is expected to send.
    var lastPromptTokens = 0.0
    /// A call has ended: with a reserve, calls no longer go one at a time.
    var replied = false
    /// Calls started and not yet completed, and what each is now expected to cost in tokens.
    var callsInFlight = 0
    var lastCallEstimate = 0.0
    var nextRequestAt: Date?
    var nextTokensAt: Date?
    /// When the last paced call really started (its waiter may have woken late).
    var lastPacedStart: Date?
    var lastCut: Date?
    var lastGrowth: Date?
    /// When headers last stated the limit. While they do, the pace already matches what the
    /// provider says it allows and `remaining`/`reset` steer around other users of the key, so a
    /// 429 (an overshoot before the first headers arrived, say) blocks without cutting the rate.
    var limitReportedAt: Date?
    /// Start times of recent calls: to estimate the rate that drew a 429 when no limit was
    /// known, and to tell which calls a `remaining` header cannot have counted yet.
    var recentStarts: [Date] = []
    /// Calls started in each of the last 60 seconds (by whole second, oldest first): with a
    /// reserve, what of a window's use is ours, the rest being the key's other users'.
    var startsBySecond: [(second: Int64, calls: Int)] = []
    /// With a reserve, the rate (per second) left for us once the key's other users' calls of
    /// the last minute and the reserve are taken off the reported limit.
    var othersLeaveUs: Double?

    public init(limits: RateLimits, tuning: Tuning = Tuning()) {
        self.limits = limits
        self.tuning = tuning
        requestCeiling = limits.requestsPerMinute.map { $0 / 60 * tuning.safety * (1 - limits.reserve) }
        requestRate = requestCeiling
        tokenCeiling = limits.tokensPerMinute.map { $0 / 60 * tuning.safety * (1 - limits.reserve) }
        tokenRate = tokenCeiling
        burstsAllowed = limits.reserve == 0
    }

    /// What of a window's `remaining` is ours: above the reserved share of its limit (the
    /// reported one, else the configured one).
    func ours(_ window: RateLimitSignal.Window, configured: Double?) -> Double? {
        guard let remaining = window.remaining else { return nil }
        return remaining - limits.reserve * (window.limit ?? configured ?? 0)
    }

    /// Books a call whose prompt is about `promptTokens` and whose reply may use up to
    /// `maxReplyTokens` (`nil`: the request sets no limit). The permit says when it may start.
    public mutating func reserve(promptTokens: Double, maxReplyTokens: Double?, now: Date) -> Permit {
        let tokens = expectedTokens(promptTokens: promptTokens, maxReplyTokens: maxReplyTokens)
        lastPromptTokens = promptTokens
        var start = max(now, blockedUntil ?? now)
        var onCredit = false
        if burstsAllowed, let held = credit, start < held.until {
            if spendable(held) {
                onCredit = true
                spendingCredit = true
                credit?.calls -= 1
            } else if held.calls >= 1 || refillsBeforeReset {
                spendingCredit = false
            } else {
                start = held.until
            }
        }
        var requestSlot: Date?
        if !onCredit, let requestRate {
            start = max(start, nextRequestAt ?? start)
            requestSlot = start
            nextRequestAt = start.addingTimeInterval(1 / requestRate)
        }
        if let tokenRate {
            start = max(start, nextTokensAt ?? start)
            nextTokensAt = start.addingTimeInterval(tokens / tokenRate)
        }
        recentStarts.append(start)
        if recentStarts.count > 512 { recentStarts.removeFirst(recentStarts.count - 512) }
        if onCredit, requestRate != nil { lastPacedStart = max(lastPacedStart ?? start, start) }
        var permit = Permit(
            startAt: start, reservedTokens: tokens, promptTokens: promptTokens, onCredit: onCredit, probe: false, epoch: estimateEpoch)
        permit.requestSlot = requestSlot
        return permit
    }

    /// What a call is expected to cost in tokens: its prompt as the provider counts it, plus the
    /// reply it is expected to write (never above `maxReplyTokens`).
    public func expectedTokens(promptTokens: Double, maxReplyTokens: Double?) -> Double {
        let reply = min(maxReplyTokens ?? .infinity, expectedReplyTokens ?? maxReplyTokens ?? tuning.defaultReplyTokens)
        return promptTokens * promptScale + reply
    }

    /// About how many calls could start in the `seconds` after `now`: the credit that may be
    /// spent at once, then the current pace (the slower of requests and tokens, at what a call is
    /// expected to cost). `nil` while no limit is known: the limiter does not hold calls back.
    /// A worker claims no more than this ahead of its calls, so that what it holds starts soon
    /// and another user's items are claimed a second later, not after a queue.
    public func startsWithin(seconds: Double, now: Date) -> Double? {
        guard requestRate != nil || tokenRate != nil else { return nil }
        let perCall = expectedTokens(promptTokens: lastPromptTokens, maxReplyTokens: nil)
        let rate = min(requestRate ?? .infinity, tokenRate.map { $0 / max(perCall, 1) } ?? .infinity)
        let open = max(0, seconds - max(0, (blockedUntil ?? now).timeIntervalSince(now)))
        let onCredit = hasCredit(now: now) && (blockedUntil ?? now) <= now ? (credit?.calls ?? 0) : 0
        return onCredit + rate * open
    }

    /// Whether a call booked as `permit` should cancel and book again now: it would start at once
    /// on credit, or it reserved tokens by an estimate that has since moved.
    public func shouldRebook(_ permit: Permit, now: Date) -> Bool {
        (!permit.onCredit && hasCredit(now: now)) || permit.epoch != estimateEpoch
    }

    /// Whether a call booked at `now` would start at once on credit.
    public func hasCredit(now: Date) -> Bool {
        guard burstsAllowed, let credit, now < credit.until else { return false }
        return spendable(credit)
    }

    /// Whether calls may start on `credit`: a whole call is left, and either it is enough for a
    /// burst, a burst is under way, or the provider is known not to refill before its reset.
    func spendable(_ credit: Credit) -> Bool {
        credit.calls >= 1 && (credit.calls >= tuning.smallestBurst || spendingCredit || !refillsBeforeReset)
    }

    /// Called when a booked call is about to start: `nil` if it may start at `now`, else the time
    /// it must wait for. Paced calls keep their spacing at the real start too — a waiter woken
    /// late must not start right before the next one, or a second could see one call too many.
    /// What the headers said is left is checked here, at the start, whenever the call was
    /// booked: a paced call that starts with the credit spent is a probe of whether the
    /// provider refills before its reset — or, once known that it does not, waits for the reset.
    public mutating func begin(_ permit: inout Permit, now: Date) -> Date? {
        if limits.reserve > 0, !replied, callsInFlight > 0 { return now.addingTimeInterval(tuning.firstReplyPoll) }
        guard !permit.onCredit else { return started(&permit) }
        if let requestRate, let last = lastPacedStart, now < last.addingTimeInterval(1 / requestRate) {
            return last.addingTimeInterval(1 / requestRate)
        }
        if burstsAllowed, let held = credit, now < held.until {
            if held.calls < 1, !refillsBeforeReset { return held.until }
            permit.probe = held.calls < 1
            credit?.calls -= 1
        }
        lastPacedStart = now
        return started(&permit)
    }

    mutating func started(_ permit: inout Permit) -> Date? {
        permit.started = true
        callsInFlight += 1
        if limits.reserve > 0 {
            let second = Int64(permit.startAt.timeIntervalSince1970.rounded(.down))
            if startsBySecond.last?.second == second {
                startsBySecond[startsBySecond.count - 1].calls += 1
            } else {
                startsBySecond.append((second, 1))
            }
            startsBySecond.removeAll { $0.second <= second - 60 }
        }
        return nil
    }

    /// Our calls started in the minute before `now`.
    func startsInLastMinute(now: Date) -> Int {
        let since = Int64(now.timeIntervalSince1970.rounded(.down)) - 60
        return startsBySecond.reduce(0) { $0 + ($1.second > since ? $1.calls : 0) }
    }

    /// Whether a booked call must not start at `now` after all (a 429 blocked everyone since it
    /// was booked): cancel it and book again.
    public func mustRebook(_ permit: Permit, now: Date) -> Bool {
        blockedUntil.map { now < $0 } ?? false
    }

    /// Hands back a permit whose call was never made: its credit, and its place on the schedule.
    public mutating func cancel(_ permit: Permit) {
        if permit.started { callsInFlight -= 1 }
        if let index = recentStarts.lastIndex(of: permit.startAt) { recentStarts.remove(at: index) }
        if permit.onCredit, credit != nil { credit?.calls += 1 }
        // The schedule is a queue: a cancelled booking shortens its tail by one slot. A booking
        // left closer to the tail than the spacing is kept apart at its start by `begin`.
        if let slot = permit.requestSlot, let requestRate, let next = nextRequestAt {
            nextRequestAt = max(slot, next.addingTimeInterval(-1 / requestRate))
        }
        // A booking from before the schedule was redrawn is no longer in it.
        if let tokenRate, let next = nextTokensAt, permit.epoch == estimateEpoch {
            nextTokensAt = next.addingTimeInterval(-permit.reservedTokens / tokenRate)
        }
    }

    /// Learns from a finished call: its outcome, and what its response headers said.
    public mutating func complete(_ permit: Permit, outcome: Outcome, signal: RateLimitSignal?, now: Date) {
        if permit.started { callsInFlight -= 1 }
        replied = true
        if let signal { learn(from: signal, now: now) }
        switch outcome {
        case .succeeded(let used, let reply):
            // A call booked before the schedule was redrawn was counted at the new estimate then.
            if let used, let tokenRate, let next = nextTokensAt, permit.epoch == estimateEpoch {
                nextTokensAt = next.addingTimeInterval((Double(used) - permit.reservedTokens) / tokenRate)
            }
            if let reply {
                learnReply(Double(reply))
                if let used, permit.promptTokens > 0 { learnPrompt(actual: Double(used - reply), estimated: permit.promptTokens) }
                lastCallEstimate = permit.promptTokens * promptScale + (expectedReplyTokens ?? 0)
                if tokenRate != nil { advanceEpochIfTheEstimateMoved(now: now) }
            }
            grow(now: now)
        case .rateLimited:
            block(until: now.addingTimeInterval(max(signal?.retryDelay ?? 1, 0.05)))
            if permit.onCredit {
                burstsAllowed = false
                credit = nil
            } else if permit.probe {
                refillsBeforeReset = false
                credit = nil
            }
            if let reported = limitReportedAt, now.timeIntervalSince(reported) < 60 { break }
            cut(now: now)
        case .failed:
            break
        }
    }

    /// Keeps the expected reply at the larger of a moving average and the latest reply, so a
    /// run of long replies is reserved for at once and short ones lower it gradually.
    mutating func learnReply(_ tokens: Double) {
        let average = expectedReplyTokens.map { $0 * 0.9 + tokens * 0.1 } ?? tokens
        expectedReplyTokens = max(average, tokens)
    }

    /// A new epoch redraws the token schedule from `now`: what the calls still in flight are
    /// now expected to cost, and nothing of the bookings made by the old estimate (their
    /// waiters book again).
    mutating func advanceEpochIfTheEstimateMoved(now: Date) {
        // Measured against at least one token: replies of none (embeddings) are no movement,
        // and redrawing the schedule after every such call held the calls back to a quarter of
        // the token limit.
        func moved(_ old: Double?, _ new: Double?) -> Bool {
            guard let new else { return false }
            guard let old else { return true }
            return abs(new - old) / max(old, 1) >= 0.2
        }
        if moved(epochEstimate.reply, expectedReplyTokens) || moved(epochEstimate.scale, promptScale) {
            estimateEpoch += 1
            epochEstimate = (expectedReplyTokens, promptScale)
            if let tokenRate {
                nextTokensAt = now.addingTimeInterval(Double(max(0, callsInFlight)) * lastCallEstimate / tokenRate)
            }
        }
    }

    /// Keeps the prompt scale at the larger of a moving average and the latest ratio, as for replies.
    mutating func learnPrompt(actual: Double, estimated: Double) {
        let ratio = actual / estimated
        promptScale = max(promptScale * 0.9 + ratio * 0.1, ratio)
    }

    mutating func learn(from signal: RateLimitSignal, now: Date) {
        if let limit = signal.requests?.limit, limit > 0 {
            let ceiling = min(limits.requestsPerMinute ?? .infinity, limit) / 60 * tuning.safety * (1 - limits.reserve)
            requestCeiling = ceiling
            requestRate = min(requestRate ?? ceiling, ceiling)
            limitReportedAt = now
        }
        // With a reserve, what others on the key use comes out of our share, not the reserve:
        // the window's use less our own calls of the last minute is theirs, and we pace at what
        // the limit less the reserve and their use leaves (at least a call a minute). This holds
        // whatever the provider's `reset` means (a sliding minute frees a call at a time).
        if limits.reserve > 0, let requests = signal.requests, let limit = requests.limit, limit > 0, let remaining = requests.remaining {
            let others = max(0, limit - remaining - Double(startsInLastMinute(now: now)))
            let left = max(1, limit * (1 - limits.reserve) - others) / 60 * tuning.safety
            othersLeaveUs = left
            if let ceiling = requestCeiling { requestRate = min(ceiling, left) }
        }
        if let limit = signal.tokens?.limit, limit > 0 {
            let ceiling = min(limits.tokensPerMinute ?? .infinity, limit) / 60 * tuning.safety * (1 - limits.reserve)
            tokenCeiling = ceiling
            tokenRate = min(tokenRate ?? ceiling, ceiling)
        }
        if burstsAllowed, let requests = signal.requests, let remaining = requests.remaining {
            let uncounted = recentStarts.count { $0 > now.addingTimeInterval(-tuning.headerLag) && $0 <= now }
            credit = Credit(calls: remaining - Double(uncounted), until: now.addingTimeInterval(requests.resetIn ?? 1))
            if remaining - Double(uncounted) < 1 { spendingCredit = false }
        }
        // Once bursts are known to be refused, a spent window waits for its reset — or, as a
        // window that refills continuously reports the time until it is full, for the next
        // paced call, whichever is sooner.
        let windows = burstsAllowed ? [signal.tokens] : [signal.requests, signal.tokens]
        for window in windows.compactMap({ $0 }) {
            let configured = window == signal.requests ? limits.requestsPerMinute : limits.tokensPerMinute
            if let remaining = ours(window, configured: configured), remaining < 1, let reset = window.resetIn {
                // With a reserve, the window's reset: what refills first is the reserve's.
                let nextPaced = window == signal.requests && limits.reserve == 0 ? requestRate.map { 1 / $0 } : nil
                block(until: now.addingTimeInterval(min(reset, nextPaced ?? reset)))
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
        // Learned from a 429 with no limit known: the reserve's share comes off what drew it.
        if requestCeiling == nil { requestCeiling = current * (1 - limits.reserve) }
        requestRate = max(min(current * tuning.decrease, requestCeiling ?? .infinity), 1.0 / 60)
        if let tokenRate { self.tokenRate = tokenRate * tuning.decrease }
    }

    mutating func grow(now: Date) {
        if let lastCut, now.timeIntervalSince(lastCut) < tuning.holdAfterCut { return }
        let since = lastGrowth.map { now.timeIntervalSince($0) } ?? 0
        lastGrowth = now
        if let ceiling = requestCeiling.map({ min($0, othersLeaveUs ?? $0) }), let rate = requestRate, rate < ceiling {
            requestRate = min(ceiling, rate + ceiling * tuning.recoveryPerMinute * since / 60)
        }
        if let ceiling = tokenCeiling, let rate = tokenRate, rate < ceiling {
            tokenRate = min(ceiling, rate + ceiling * tuning.recoveryPerMinute * since / 60)
        }
    }

    /// Calls per second over the recent starts; a floor of one per second when there are too few.
    func observedRate(now: Date) -> Double {
        let recent = recentStarts.suffix(256)
        guard let first = recent.first, recent.count >= 2, now.timeIntervalSince(first) > 0 else { return 1 }
        return Double(recent.count) / now.timeIntervalSince(first)
    }
}
