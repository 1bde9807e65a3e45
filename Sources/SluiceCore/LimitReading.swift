public import Foundation

/// What a provider key's limiter knows about its limits at one moment: for the people who
/// share the key, where Sluice's pace comes from and how fast it is going.
public struct LimitReading: Sendable, Equatable {
    /// Where the ceiling came from.
    public enum Source: String, Sendable {
        /// The provider's rate-limit headers stated it (the configured limit caps it).
        case reported
        /// A 429 arrived with no stated limit: the rate was cut and grows back from there.
        case learned
        /// Only the configuration's `limits` say it.
        case configured
        /// Nothing is known yet: calls are not paced.
        case unknown
    }

    public var source: Source
    /// The ceiling Sluice allows itself, per minute: the limit less the reserve and a safety margin.
    public var requestsPerMinute: Double?
    /// The rate calls are paced at now (below the ceiling for a while after a 429).
    public var pacedRequestsPerMinute: Double?
    public var tokensPerMinute: Double?
    public var pacedTokensPerMinute: Double?
    /// Until when a 429 (or a spent window) holds every call back.
    public var blockedUntil: Date?
    /// Whether calls may still go at once on what headers say is left (cleared by a 429 on such a burst).
    public var burstsAllowed: Bool
    public var callsInFlight: Int

    public init(
        source: Source, requestsPerMinute: Double? = nil, pacedRequestsPerMinute: Double? = nil, tokensPerMinute: Double? = nil,
        pacedTokensPerMinute: Double? = nil, blockedUntil: Date? = nil, burstsAllowed: Bool = true, callsInFlight: Int = 0
    ) {
        self.source = source
        self.requestsPerMinute = requestsPerMinute
        self.pacedRequestsPerMinute = pacedRequestsPerMinute
        self.tokensPerMinute = tokensPerMinute
        self.pacedTokensPerMinute = pacedTokensPerMinute
        self.blockedUntil = blockedUntil
        self.burstsAllowed = burstsAllowed
        self.callsInFlight = callsInFlight
    }
}

extension RateLimiter {
    /// What this limiter knows now (see ``LimitReading``).
    public func reading(now: Date) -> LimitReading {
        let source: LimitReading.Source =
            if limitReportedAt != nil { .reported } else if lastCut != nil { .learned } else if requestCeiling != nil || tokenCeiling != nil
            {
                .configured
            } else { .unknown }
        return LimitReading(
            source: source, requestsPerMinute: requestCeiling.map { $0 * 60 }, pacedRequestsPerMinute: requestRate.map { $0 * 60 },
            tokensPerMinute: tokenCeiling.map { $0 * 60 }, pacedTokensPerMinute: tokenRate.map { $0 * 60 },
            blockedUntil: blockedUntil.flatMap { $0 > now ? $0 : nil }, burstsAllowed: burstsAllowed, callsInFlight: callsInFlight)
    }
}
