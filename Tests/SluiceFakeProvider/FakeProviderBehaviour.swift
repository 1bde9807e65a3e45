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
    /// How long a `.hang` lasts before the fake answers it with `504`; `nil`: never (the
    /// client's timeout must end it).
    public var hangSeconds: Double?
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
    /// Share of packed replies (several keyed rows) spoiled by each way models get packs wrong.
    public var packFaultRates: [PackFault: Double] = [:]
    /// Share of schema answers that break the schema when the request only describes it in the
    /// prompt (a field left out, a row's answer spoiled); a schema the request asks to be
    /// enforced (`response_format: json_schema`, `output_format`) is always kept, as real
    /// providers keep it.
    public var schemaBreakRate = 0.0
    /// Refuse requests that ask for a schema to be enforced with a 400 naming the parameter, as
    /// a server or model without structured outputs does.
    public var refusesStrictSchemas = false
    /// Reply tokens each chat call spends reasoning before it answers, as a reasoning model
    /// does: a call whose limit (`max_completion_tokens`, `max_tokens`) cannot hold the
    /// reasoning and the answer is cut at the limit with nothing said, billed the whole limit.
    public var reasoningTokens = 0
    /// Share of flex-tier requests (`service_tier: "flex"`) refused for want of capacity: a 429
    /// with the code `resource_unavailable`, as OpenAI's flex tier answers. Flex replies say
    /// `service_tier: "flex"`.
    public var flexUnavailableRate = 0.0

    public enum LimitWindow: Sendable {
        /// At most the limit in any 60 seconds.
        case slidingMinute
        /// The per-minute limit quantised into per-second buckets, as OpenAI enforces it.
        case perSecond
        /// A bucket holding a minute of requests, refilled continuously: a fresh key may send
        /// the whole minute at once.
        case bucket
    }

    public enum Fault: Sendable, Hashable {
        case internalError
        case unavailable
        /// Answers only after ``FakeProviderBehaviour/hangSeconds`` (with `504`), or never.
        case hang
        /// `200` with a body that is not JSON.
        case malformedBody
        /// Closes the connection without answering.
        case dropConnection
    }

    /// How a packed reply goes wrong; each spoils one row of the reply (or two, for a swap).
    public enum PackFault: String, Sendable, Hashable, CaseIterable {
        /// One row's entry is missing (the reply is short).
        case dropRow
        /// One row is answered twice, the second time with its neighbour's answer (the reply is long).
        case duplicateRow
        /// Two entries trade places in the list, keys and all: right by key, wrong by position.
        case swapRows
        /// One entry carries a key no row has.
        case wrongKey
        /// One entry's output is not valid (`null`, or a number where the schema wants an object).
        case invalidRow
    }

    public init() {}
}

/// What the fake received and did, readable by tests and benchmarks.
public struct FakeProviderCounters: Sendable, Equatable {
    public var received = 0
    public var accepted = 0
    /// Tokens of the accepted calls, as the limit counts them.
    public var acceptedTokens = 0.0
    public var rateLimited = 0
    public var unauthorized = 0
    public var faults: [FakeProviderBehaviour.Fault: Int] = [:]
    public var answered = 0
    /// Answered `200` with a well-formed reply: calls a client paid for and should record.
    public var succeeded = 0
    /// Accepted and not yet answered.
    public var inFlight = 0
    /// Accepted, and their connection closed before the answer: calls the client gave up on, or
    /// lost when its process died.
    public var abandoned = 0
    /// Packed replies spoiled, per fault.
    public var packFaults: [FakeProviderBehaviour.PackFault: Int] = [:]
    /// Rows asked for in packed requests (each request counts its keys).
    public var packedRows = 0
    /// Requests that asked for their schema to be enforced, answered or refused.
    public var strictSchemaRequests = 0
    /// Answers that broke a schema given only in the prompt (``FakeProviderBehaviour/schemaBreakRate``).
    public var schemaBreaks = 0
    /// Flex-tier requests received, and those refused for want of capacity.
    public var flexRequests = 0
    public var flexUnavailable = 0
    /// Requests received per user prompt (the last user message): which inputs were called more
    /// than once.
    public var receivedByPrompt: [String: Int] = [:]
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

extension FakeProviderCounters {
    /// The counters as JSON, for benchmarks that run the fake as a process.
    public var json: String {
        JSONWriter.string([
            "received": .int(received), "accepted": .int(accepted), "accepted_tokens": .int(Int(acceptedTokens)),
            "rate_limited": .int(rateLimited), "answered": .int(answered),
            "succeeded": .int(succeeded), "in_flight": .int(inFlight), "abandoned": .int(abandoned), "max_in_flight": .int(maxInFlight),
            "faults": .object(JSONObject(faults.map { ("\($0.key)", .int($0.value)) }.sorted { $0.0 < $1.0 })),
            "pack_faults": .object(JSONObject(packFaults.map { ($0.key.rawValue, .int($0.value)) }.sorted { $0.0 < $1.0 })),
            "packed_rows": .int(packedRows), "strict_schema_requests": .int(strictSchemaRequests), "schema_breaks": .int(schemaBreaks),
            "flex_requests": .int(flexRequests), "flex_unavailable": .int(flexUnavailable),
            "accepted_per_second": .object(JSONObject(acceptedPerSecond.sorted { $0.key < $1.key }.map { ("\($0.key)", .int($0.value)) })),
            "rate_limited_per_second": .object(
                JSONObject(rateLimitedPerSecond.sorted { $0.key < $1.key }.map { ("\($0.key)", .int($0.value)) })),
        ])
    }
}
