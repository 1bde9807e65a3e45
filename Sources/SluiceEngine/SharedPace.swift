import Foundation
import Logging
import SluiceCore
import SluiceStore

/// This process's part of a provider's schedule shared through the database (see
/// ``PaceStore``): start times are taken a small block at a time and handed to calls one by
/// one, so the database is asked once per block, never on every call's path.
///
/// Blocks are kept small — a quarter second of the provider's pace, and at most a hundredth of
/// its minute of tokens — because a block taken is spent whether or not this process has calls
/// for it, and because a minute may hold the limit plus one block.
actor SharedPace {
    let store: any PaceStore
    let provider: String
    let secondsPerCall: Double
    let secondsPerToken: Double
    let limits: RateLimits
    let logger: Logger
    /// Start times taken and not yet handed out, earliest first.
    var starts: [Date] = []
    /// Tokens used beyond what calls reserved (negative: fewer), owed to the next block.
    var tokenCorrection = 0.0
    /// When the provider's circuit, opened by some process, closes.
    var circuitOpenUntil: Date?
    /// A block is being taken; callers that find no start left wait in ``waiting``.
    var taking = false
    var waiting: [CheckedContinuation<Void, Never>] = []

    /// How late a start may be used: later ones are dropped, not spent. Starts used late bunch
    /// up (late calls land beside the next ones on time), so only two calls' spacing of delay is
    /// allowed, and at least 50 ms of a waiter's wake-up lag.
    var lateness: Double { max(2 * secondsPerCall, 0.05) }

    init(store: any PaceStore, provider: String, limits: RateLimits, safety: Double, logger: Logger) {
        self.store = store
        self.provider = provider
        self.limits = limits
        self.logger = logger
        secondsPerCall = limits.requestsPerMinute.map { 60 / ($0 * safety) } ?? 0
        secondsPerToken = limits.tokensPerMinute.map { 60 / ($0 * safety) } ?? 0
    }

    /// Whether the provider has a limit to share at all.
    static func isPaced(_ limits: RateLimits) -> Bool { limits.requestsPerMinute != nil || limits.tokensPerMinute != nil }

    /// Calls per block for calls of about `tokens` each.
    func blockSize(tokens: Double) -> Int {
        var size = 16
        if let rpm = limits.requestsPerMinute { size = min(size, Int(rpm / 60 / 4)) }
        if let tpm = limits.tokensPerMinute, tokens > 0 { size = min(size, Int(tpm / 100 / tokens)) }
        return max(1, size)
    }

    /// When the next call, expected to use about `tokens`, may start. Throws when the database
    /// cannot be asked; the caller waits and asks again.
    ///
    /// One caller takes a block while the others wait for it (not for the database): each
    /// waiter is resumed once the block is in, or the taking failed.
    func nextStart(tokens: Double, now: Date) async throws -> Date {
        while true {
            starts.removeAll { $0.timeIntervalSince(now) < -lateness }
            if !starts.isEmpty { return starts.removeFirst() }
            if taking {
                await withCheckedContinuation { waiting.append($0) }
                continue
            }
            taking = true
            defer {
                taking = false
                let woken = waiting
                waiting = []
                for waiter in woken { waiter.resume() }
            }
            let calls = blockSize(tokens: tokens)
            let request = PaceRequest(
                provider: provider, calls: calls, tokens: Double(calls) * tokens + tokenCorrection, secondsPerCall: secondsPerCall,
                secondsPerToken: secondsPerToken)
            tokenCorrection = 0
            do {
                receive(try await store.takePace(request, now: now))
            } catch {
                tokenCorrection += request.tokens
                throw error
            }
        }
    }

    func receive(_ grant: PaceGrant) {
        starts += grant.starts
        circuitOpenUntil = grant.circuitOpenUntil
    }

    /// When the circuit some process opened closes, if it is open at `now`.
    func circuitOpen(at now: Date) -> Date? {
        circuitOpenUntil.flatMap { $0 > now ? $0 : nil }
    }

    /// A finished call used `used` tokens where `reserved` were booked: the next block makes up
    /// the difference.
    func settle(reserved: Double, used: Double) {
        tokenCorrection += used - reserved
    }

    /// Tells every process that the provider is out of bounds until `until`; start times held
    /// here that fall before it are dropped.
    func hold(until: Date, reason: PaceHold) async {
        if reason == .rateLimited { starts.removeAll { $0 < until } }
        if reason == .circuitOpen { circuitOpenUntil = max(circuitOpenUntil ?? until, until) }
        do {
            try await store.holdPace(provider: provider, until: until, reason: reason)
        } catch {
            logger.error("sharing a hold on the provider failed", metadata: ["provider": "\(provider)", "error": "\(error)"])
        }
    }
}
