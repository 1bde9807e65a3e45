import Foundation
import SluiceCore
import SluiceProviders

/// The one place in a process where calls to a provider wait their turn: its rate limiter and
/// circuit breaker, shared by every job and worker task that calls it.
///
/// The algorithms are the pure ``RateLimiter`` and ``CircuitBreaker``; this actor only keeps
/// their state, sleeps when they say wait, and tells them how each call went.
actor ProviderGate {
    var limiter: RateLimiter
    var breaker: CircuitBreaker
    let clock: any SluiceClock
    private var completionWaiters: [CheckedContinuation<Void, Never>] = []

    init(entry: ProviderEntry, clock: any SluiceClock) {
        limiter = RateLimiter(limits: entry.limits)
        breaker = CircuitBreaker(configuration: entry.breaker)
        self.clock = clock
    }

    /// Waits until a call may start; `nil` when the waiting task was cancelled.
    func acquire(tokens: Double) async -> RateLimiter.Permit? {
        while !Task.isCancelled {
            let now = clock.now()
            if let available = breaker.availableAt(now: now) {
                try? await clock.sleep(seconds: available.timeIntervalSince(now))
                continue
            }
            switch limiter.acquire(tokens: tokens, now: now) {
            case .proceed(let permit):
                breaker.admit()
                return permit
            case .wait(let until):
                try? await clock.sleep(seconds: until.timeIntervalSince(now))
            case .waitForCompletion:
                await withCheckedContinuation { completionWaiters.append($0) }
            }
        }
        return nil
    }

    /// Returns a permit whose call was not made.
    func cancel(_ permit: RateLimiter.Permit) {
        limiter.cancel(permit)
        breaker.cancel()
        wakeWaiters()
    }

    /// Reports a finished call. `healthy` is `nil` for outcomes that say nothing about the
    /// provider's health (a rate limit, a rejected request).
    func complete(_ permit: RateLimiter.Permit, outcome: RateLimiter.Outcome, signal: RateLimitSignal?, healthy: Bool?) {
        let now = clock.now()
        limiter.complete(permit, outcome: outcome, signal: signal, now: now)
        if let healthy {
            breaker.record(success: healthy, now: now)
        } else {
            breaker.cancel()
        }
        wakeWaiters()
    }

    private func wakeWaiters() {
        let waiters = completionWaiters
        completionWaiters = []
        for waiter in waiters { waiter.resume() }
    }
}

/// One gate per provider name, created on first use.
actor ProviderGates {
    let providers: ProviderRegistry
    let clock: any SluiceClock
    private var gates: [String: ProviderGate] = [:]

    init(providers: ProviderRegistry, clock: any SluiceClock) {
        self.providers = providers
        self.clock = clock
    }

    func gate(for name: String) -> ProviderGate? {
        if let gate = gates[name] { return gate }
        guard let entry = providers[name] else { return nil }
        let gate = ProviderGate(entry: entry, clock: clock)
        gates[name] = gate
        return gate
    }
}
