import Foundation
import SluiceCore

/// How the fake provider behaves; tests and benchmarks change it while it runs.
public struct FakeProviderBehaviour: Sendable {
    /// Seconds before each accepted request is answered: fixed, or uniform between the bounds.
    public var latency: ClosedRange<Double> = 0...0
    /// Requests per minute the fake enforces, counted as `limitWindow` says; `nil` for none.
    public var requestsPerMinute: Double?
    /// Tokens per minute (prompt estimate plus completion), over a sliding minute.
    public var tokensPerMinute: Double?
    public var limitWindow: LimitWindow = .slidingMinute
    /// Send OpenAI (`x-ratelimit-*`) or Anthropic (`anthropic-ratelimit-*`) limit headers.
    public var sendsLimitHeaders = true
    /// Share of accepted requests answered with each fault.
    public var faultRates: [Fault: Double] = [:]
    /// Faults for the next requests, in order, before any random ones.
    public var scriptedFaults: [Fault] = []
    /// Every request is answered with this status and message (e.g. 401, 400).
    public var fixedError: (status: Int, message: String)?
    /// When set, requests must carry this key (`Authorization: Bearer` or `x-api-key`).
    public var requiredKey: String?

    public enum LimitWindow: Sendable {
        /// At most the limit in any 60 seconds.
        case slidingMinute
        /// The per-minute limit quantised into per-second buckets, as OpenAI enforces it.
        case perSecond
    }

    public enum Fault: Sendable, Hashable {
        case internalError
        case unavailable
        /// Never answers; the client's timeout must end it.
        case hang
        /// `200` with a body that is not JSON.
        case malformedBody
        /// Closes the connection without answering.
        case dropConnection
    }

    public init() {}
}

/// What the fake received and did, readable by tests and benchmarks.
public struct FakeProviderCounters: Sendable, Equatable {
    public var received = 0
    public var accepted = 0
    public var rateLimited = 0
    public var unauthorized = 0
    public var faults: [FakeProviderBehaviour.Fault: Int] = [:]
    public var answered = 0
    public var maxInFlight = 0
    /// Accepted requests per whole second since the fake started.
    public var acceptedPerSecond: [Int: Int] = [:]
    /// 429s per whole second since the fake started.
    public var rateLimitedPerSecond: [Int: Int] = [:]

    /// 429s answered from `seconds` after the start on.
    public func rateLimitedAfter(seconds: Int) -> Int {
        rateLimitedPerSecond.filter { $0.key >= seconds }.values.reduce(0, +)
    }
}
