import Foundation
import Logging
import SluiceCore
import SluiceProviders
import SluiceStore
import Synchronization

/// The one place in a process where calls to a provider wait their turn: its in-flight cap,
/// rate limiter and circuit breaker, shared by every job and worker task that calls it.
///
/// The algorithms are the pure ``RateLimiter`` and ``CircuitBreaker``; this actor only keeps
/// their state, sleeps until the start time each caller was booked, and tells them how each
/// call went. Every wait ends when the waiting task is cancelled.
actor ProviderGate {
    var limiter: RateLimiter
    var breaker: CircuitBreaker
    var latency = CallLatency()
    let clock: any SluiceClock
    /// Calls in flight to this provider, when its limits cap them; released by `complete`/`cancel`.
    let inFlight: CallPermits?
    /// Wakes calls sleeping until a booked start when booking again would start them sooner:
    /// credit to start at once arrived, or the expected cost of a call moved.
    let rebookSignal = WakeSignal()
    /// This process's part of the provider's schedule shared with other processes; `nil` when
    /// the limits are this process's own. Each call takes a start from it before the limiter
    /// below books it, so all processes together stay under the limits.
    let shared: SharedPace?
    /// The calls the limiter would let start within ``ClaimBudget/horizon`` (`nil`: it has no
    /// limit), as of its latest booking or outcome: what the claim loop reads, without waiting
    /// for this actor.
    nonisolated let startsAhead: Mutex<Double?>
    /// Whether an overdue call is raced by a second one (see `ItemRunner.complete`).
    nonisolated let hedgesHungCalls: Bool

    /// Whether the pace is shared with other processes.
    nonisolated var sharesPace: Bool { shared != nil }

    init(entry: ProviderEntry, clock: any SluiceClock, shared: SharedPace? = nil) {
        hedgesHungCalls = entry.hedgesHungCalls
        let limiter = RateLimiter(limits: entry.limits)
        self.limiter = limiter
        breaker = CircuitBreaker(configuration: entry.breaker)
        self.clock = clock
        self.shared = shared
        inFlight = entry.limits.maxInFlight.map { CallPermits(max(1, $0)) }
        startsAhead = Mutex(limiter.startsWithin(seconds: ClaimBudget.horizon, now: clock.now()))
    }

    /// Until when no call can start here: its circuit is open, or a 429 blocks every caller
    /// (`nil`: calls may start now). Read by routing, to send calls to a fallback instead.
    nonisolated let unavailableUntil = Mutex<Date?>(nil)

    /// What this gate knows of the key's limits now, for the team view.
    func reading(provider: String, worker: String) -> ProviderReading {
        let now = clock.now()
        return ProviderReading(
            provider: provider, worker: worker, limits: limiter.reading(now: now), circuitOpenUntil: breaker.availableAt(now: now),
            reportedAt: now)
    }

    /// Publishes the limiter's pace for the claim loop, and until when calls cannot start.
    func publishPace(now: Date) {
        let ahead = limiter.startsWithin(seconds: ClaimBudget.horizon, now: now)
        startsAhead.withLock { $0 = ahead }
        let blocked = [breaker.availableAt(now: now), limiter.blockedUntil].compactMap { $0 }.filter { $0 > now }.max()
        unavailableUntil.withLock { $0 = blocked }
    }

    /// Waits until a call may start; `nil` when the waiting task was cancelled, or `stop` (a
    /// draining worker's signal) was woken while it waited for its booked start — or, with
    /// `leaveAfter` (a caller with a fallback), when its circuit is open or a 429 blocks it for
    /// longer than that: then ``unavailableUntil`` says so.
    func acquire(promptTokens: Double, maxReplyTokens: Double?, stop: WakeSignal? = nil, leaveAfter: Double? = nil) async
        -> RateLimiter.Permit?
    {
        if let inFlight, await !inFlight.acquire() { return nil }
        while !Task.isCancelled {
            let now = clock.now()
            if let bound = leaveAfter {
                publishPace(now: now)
                if let until = unavailableUntil.withLock({ $0 }), until > now.addingTimeInterval(bound) { break }
            }
            if let available = breaker.availableAt(now: now) {
                try? await clock.sleep(until: available)
                continue
            }
            if let shared, await !waitForSharedStart(shared, promptTokens: promptTokens, maxReplyTokens: maxReplyTokens) { continue }
            var permit = limiter.reserve(promptTokens: promptTokens, maxReplyTokens: maxReplyTokens, now: now)
            publishPace(now: now)
            var generation = rebookSignal.generation
            var wakeAt = permit.startAt
            var rebook = false
            while true {
                if wakeAt > clock.now() {
                    switch await sleep(until: wakeAt, unlessWokenAfter: generation, stop: stop) {
                    case .slept: break
                    case .cancelled: rebook = false
                    // Only a call that would start sooner gives up its place in the schedule:
                    // if all rebooked, the schedule would simply be booked again from its tail.
                    case .rebook:
                        rebook = limiter.shouldRebook(permit, now: clock.now())
                        generation = rebookSignal.generation
                    }
                    if Task.isCancelled || rebook || (stop?.generation ?? 0) > 0 { break }
                    if clock.now() < wakeAt { continue }
                }
                // Others ran while this one slept: a 429 or an opened circuit since the booking wins.
                if limiter.mustRebook(permit, now: clock.now()) || breaker.availableAt(now: clock.now()) != nil {
                    rebook = true
                    break
                }
                guard let later = limiter.begin(&permit, now: clock.now()) else {
                    breaker.admit()
                    return permit
                }
                wakeAt = later
            }
            limiter.cancel(permit)
            if !rebook { break }
        }
        inFlight?.release()
        return nil
    }

    /// Waits for this call's start on the shared schedule (or for a circuit another process
    /// opened to close); `false` when the caller should look again first (the wait was cut
    /// short, or the database could not be asked and a second has passed).
    func waitForSharedStart(_ shared: SharedPace, promptTokens: Double, maxReplyTokens: Double?) async -> Bool {
        let now = clock.now()
        if let open = await shared.circuitOpen(at: now) {
            try? await clock.sleep(until: open)
            return false
        }
        let tokens = limiter.expectedTokens(promptTokens: promptTokens, maxReplyTokens: maxReplyTokens)
        guard let start = try? await shared.nextStart(tokens: tokens, now: now) else {
            try? await clock.sleep(seconds: 1)
            return false
        }
        if start > clock.now() { try? await clock.sleep(until: start) }
        return !Task.isCancelled
    }

    enum Wake { case slept, cancelled, rebook }

    /// Sleeps until `date`, or until booking again may start the call sooner, or `stop` is woken.
    func sleep(until date: Date, unlessWokenAfter generation: Int, stop: WakeSignal?) async -> Wake {
        await withTaskGroup(of: Wake.self) { group in
            group.addTask { [clock] in
                do { try await clock.sleep(until: date) } catch { return .cancelled }
                return .slept
            }
            group.addTask { [rebookSignal] in
                await rebookSignal.wait(after: generation)
                return Task.isCancelled ? .cancelled : .rebook
            }
            if let stop {
                group.addTask {
                    await stop.wait(after: 0)
                    return .cancelled
                }
            }
            let first = await group.next() ?? .cancelled
            group.cancelAll()
            return first
        }
    }

    /// Returns a permit whose call was not made.
    func cancel(_ permit: RateLimiter.Permit) {
        limiter.cancel(permit)
        breaker.cancel()
        inFlight?.release()
    }

    /// When a call to this provider that is still running counts as overdue (see ``CallLatency``),
    /// as of the latest call's end: read by every call without waiting for this actor.
    nonisolated let overdueAfter = Mutex<Double?>(nil)
    /// When an overdue call is raced by a hedge (see `ItemRunner.complete`): as overdue, for a
    /// provider whose calls take ``hedgedFromP90`` or more at p90. Arming a hedge costs every
    /// call a task and a timer, which a provider answering in microseconds (the built-in one)
    /// would feel more than any hang; `nil` also when hedges are off.
    nonisolated let hedgeAfter = Mutex<Double?>(nil)
    /// The p90 call duration, in seconds, from which a provider's hung calls are hedged.
    static let hedgedFromP90 = 0.05

    /// Reports a finished call. `healthy` is `nil` for outcomes that say nothing about the
    /// provider's health (a rate limit, a rejected request); `seconds`, the duration of a
    /// successful call.
    func complete(
        _ permit: RateLimiter.Permit, seconds: Double? = nil, outcome: RateLimiter.Outcome, signal: RateLimitSignal?, healthy: Bool?
    ) async {
        if let seconds {
            latency.record(seconds: seconds)
            let overdue = latency.overdueAfter
            overdueAfter.withLock { $0 = overdue }
            let hedge = hedgesHungCalls && (latency.p90 ?? 0) >= Self.hedgedFromP90 ? overdue : nil
            hedgeAfter.withLock { $0 = hedge }
        }
        let now = clock.now()
        let (hadCredit, epoch) = (limiter.hasCredit(now: now), limiter.estimateEpoch)
        limiter.complete(permit, outcome: outcome, signal: signal, now: now)
        if !hadCredit && limiter.hasCredit(now: now) || epoch != limiter.estimateEpoch { rebookSignal.wakeAll() }
        let wasOpen = breaker.availableAt(now: now) != nil
        if let healthy {
            breaker.record(success: healthy, startedAt: permit.startAt, now: now)
        } else {
            breaker.cancel()
        }
        publishPace(now: now)
        inFlight?.release()
        guard let shared else { return }
        if case .succeeded(let used?, _) = outcome { await shared.settle(reserved: permit.reservedTokens, used: Double(used)) }
        if outcome == .rateLimited, let until = limiter.blockedUntil, until > now { await shared.hold(until: until, reason: .rateLimited) }
        if !wasOpen, let until = breaker.availableAt(now: now) { await shared.hold(until: until, reason: .circuitOpen) }
    }
}
