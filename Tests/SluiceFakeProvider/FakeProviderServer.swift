public import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
public import NIOSSL
public import SluiceCore
import SluiceProviders
import Synchronization

/// A local stand-in for OpenAI- and Anthropic-compatible model servers, over real HTTP on
/// loopback: configurable latency, enforced RPM/TPM with 429s and limit headers, injected
/// 500/503s, hangs, malformed bodies and dropped connections, and counters of all it saw.
///
/// Its answers satisfy the JSON Schema that Sluice puts in the system prompt (computed by the
/// built-in provider's generator from the prompt text), so whole jobs can succeed through it.
public final class FakeProviderServer: Sendable {
    struct State {
        var behaviour: FakeProviderBehaviour
        /// Prompt prefixes seen, by model: what the fake's prompt cache holds.
        var cachedPrefixes: Set<String> = []
        var counters = FakeProviderCounters()
        var requestTimes: [Double] = []
        var tokenTimes: [(time: Double, tokens: Double)] = []
        var random: SeededRandom
        var recent: [RecordedRequest] = []
        /// The `.bucket` window: requests left, as of `bucketAt` (seconds since the start).
        var bucketLevel: Double?
        var bucketAt = 0.0
    }

    let state: Mutex<State>
    /// When it started: the counters' per-second keys are seconds since then.
    public let started = Date()
    let channel: any Channel
    public let port: Int

    let scheme: String
    public var baseURL: String { "\(scheme)://127.0.0.1:\(port)" }

    /// Starts listening on a free loopback port; over HTTPS when `tls` is given (a server context).
    public init(behaviour: FakeProviderBehaviour = FakeProviderBehaviour(), seed: UInt64 = 42, tls: NIOSSLContext? = nil) async throws {
        let state = Mutex(State(behaviour: behaviour, random: SeededRandom(seed: seed)))
        self.state = state
        scheme = tls == nil ? "http" : "https"
        let box = ServerBox()
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(FakeRequestHandler(server: box.server!))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
        box.server = self
    }

    public func stop() async throws {
        try await channel.close()
    }

    public func update(_ change: (inout FakeProviderBehaviour) -> Void) {
        state.withLock { change(&$0.behaviour) }
    }

    public var counters: FakeProviderCounters { state.withLock { $0.counters } }

    /// The last requests received (at most 100), oldest first.
    public var recentRequests: [RecordedRequest] { state.withLock { $0.recent } }

    /// One request as the fake received it.
    public struct RecordedRequest: Sendable {
        public var path: String
        public var headers: [String: String]
        public var body: JSONValue?
    }

    /// What to do with one request that just arrived.
    enum Verdict {
        /// `succeeded`: a well-formed `200` reply, counted when it is sent.
        case respond(status: Int, headers: [(String, String)], body: String, after: Double, succeeded: Bool = false)
        case hang
        case drop(after: Double)
    }

    func handle(path: String, headers: HTTPHeaders, body: String) -> Verdict {
        let anthropic = path.hasSuffix("/messages")
        let request = try? JSONParser.parse(body)
        let images = FakeImageTokens.split(request?["messages"], anthropic: anthropic)
        let promptTokens =
            images.imageTokens == 0
            ? Double(body.utf8.count) / 4 : Double((images.text.map { JSONWriter.string($0).utf8.count } ?? 0) / 4 + images.imageTokens)
        return state.withLock { state -> Verdict in
            if path == "/_fake/counters" { return .respond(status: 200, headers: [], body: state.counters.json, after: 0) }
            let now = Date().timeIntervalSince(started)
            state.counters.received += 1
            state.recent.append(
                RecordedRequest(
                    path: path, headers: Dictionary(headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { $1 }),
                    body: request))
            if state.recent.count > 100 { state.recent.removeFirst() }
            let behaviour = state.behaviour
            if let key = behaviour.requiredKey {
                let given =
                    headers.first(name: "x-api-key") ?? headers.first(name: "authorization")?.replacingOccurrences(of: "Bearer ", with: "")
                if given != key {
                    state.counters.unauthorized += 1
                    return .respond(
                        status: 401, headers: [], body: Self.errorBody("Incorrect API key provided: \(given ?? "none")"), after: 0)
                }
            }
            if let fixed = behaviour.fixedError {
                return .respond(status: fixed.status, headers: [], body: Self.errorBody(fixed.message), after: 0)
            }
            let embeddings = path.hasSuffix("/embeddings")
            guard path.hasSuffix("/chat/completions") || embeddings || anthropic, let request else {
                return .respond(status: 404, headers: [], body: Self.errorBody("unknown route \(path) or invalid JSON"), after: 0)
            }
            let enforced = Self.enforcedSchema(of: request) != nil
            if enforced { state.counters.strictSchemaRequests += 1 }
            if enforced, behaviour.refusesStrictSchemas {
                let parameter = anthropic ? "output_format" : "response_format"
                return .respond(
                    status: 400, headers: [],
                    body: Self.errorBody("Invalid parameter: '\(parameter)' with a JSON schema is not supported with this model."),
                    after: 0)
            }
            let flex = !anthropic && request["service_tier"] == "flex"
            if flex {
                state.counters.flexRequests += 1
                // Drawn only when flex refusals are on, so other runs keep their fault sequence.
                if behaviour.flexUnavailableRate > 0, state.random.unit() < behaviour.flexUnavailableRate {
                    state.counters.flexUnavailable += 1
                    return .respond(
                        status: 429, headers: [],
                        body: Self.errorBody("Resource unavailable: no capacity for the flex tier now", code: "resource_unavailable"),
                        after: 0)
                }
            }
            // Drawn only when schema breaks are on, so other runs keep their fault sequence.
            let breaksSchema =
                !enforced && behaviour.schemaBreakRate > 0 && body.contains("matches this JSON Schema")
                && state.random.unit() < behaviour.schemaBreakRate
            if breaksSchema { state.counters.schemaBreaks += 1 }
            // Rate limits, counted on arrival as real providers do; tokens as the reply's usage will state them.
            // Drawn only when pack faults are on, so other runs keep their fault sequence.
            var spoil: FakeProviderBehaviour.PackFault?
            var pick = 0.0
            if !behaviour.packFaultRates.isEmpty {
                let draw = state.random.unit()
                pick = state.random.unit()
                var cumulative = 0.0
                for fault in FakeProviderBehaviour.PackFault.allCases {
                    cumulative += behaviour.packFaultRates[fault] ?? 0
                    if draw < cumulative {
                        spoil = fault
                        break
                    }
                }
            }
            // The prompt cache: a prefix of 1,024 tokens or more seen before is read from it.
            var cache: (tokens: Int, hit: Bool)?
            if let prefix = Self.cacheablePrefix(of: request, anthropic: anthropic) {
                cache = (prefix.utf8.count / 4, !state.cachedPrefixes.insert(prefix).inserted)
            }
            let reply =
                embeddings
                ? Self.embeddings(for: request)
                : Self.reply(
                    to: request, anthropic: anthropic, spoil: breaksSchema ? .invalidRow : spoil, pick: pick, breaksSchema: breaksSchema,
                    cache: cache, reasoning: behaviour.reasoningTokens, flex: flex)
            if reply.packedRows > 0 {
                state.counters.packedRows += reply.packedRows
                if let spoil { state.counters.packFaults[spoil, default: 0] += 1 }
            }
            let prompt = request["messages"]?.arrayValue?.last { $0["role"] == "user" }?["content"]?.stringValue ?? ""
            state.counters.receivedByPrompt[prompt, default: 0] += 1
            state.requestTimes.removeAll { $0 <= now - 60 }
            state.tokenTimes.removeAll { $0.time <= now - 60 }
            var retryAfter: Double?
            if let rpm = behaviour.requestsPerMinute {
                switch behaviour.limitWindow {
                case .slidingMinute:
                    if state.requestTimes.count >= Int(rpm) { retryAfter = state.requestTimes[0] + 60 - now }
                case .perSecond:
                    let second = now.rounded(.down)
                    let inSecond = state.requestTimes.filter { $0 >= second }.count
                    if Double(inSecond) >= (rpm / 60).rounded(.down) { retryAfter = second + 1 - now }
                case .bucket:
                    let level = Self.bucketLevel(state, rpm: rpm, now: now)
                    state.bucketLevel = level
                    state.bucketAt = now
                    if level < 1 { retryAfter = (1 - level) / (rpm / 60) }
                }
            }
            let usedTokens = state.tokenTimes.reduce(0) { $0 + $1.tokens }
            let callTokens = reply.tokens ?? promptTokens
            if retryAfter == nil, let tpm = behaviour.tokensPerMinute, usedTokens + callTokens > tpm {
                retryAfter = (state.tokenTimes.first?.time ?? now) + 60 - now
            }
            let limitHeaders = Self.limitHeaders(state, now: now, anthropic: anthropic)
            if let retryAfter {
                state.counters.rateLimited += 1
                state.counters.rateLimitedPerSecond[Int(now), default: 0] += 1
                let seconds = max(1, Int(retryAfter.rounded(.up)))
                return .respond(
                    status: 429, headers: limitHeaders + [("Retry-After", "\(seconds)")],
                    body: Self.errorBody("Rate limit reached: \(Int(behaviour.requestsPerMinute ?? 0)) requests per minute"), after: 0)
            }
            state.requestTimes.append(now)
            if behaviour.limitWindow == .bucket, let level = state.bucketLevel { state.bucketLevel = level - 1 }
            state.tokenTimes.append((now, callTokens))
            state.counters.acceptedTokens += callTokens
            state.counters.accepted += 1
            state.counters.acceptedPerSecond[Int(now), default: 0] += 1
            state.counters.inFlight += 1
            state.counters.maxInFlight = max(state.counters.maxInFlight, state.counters.inFlight)
            let latency =
                behaviour.latency.lowerBound == behaviour.latency.upperBound
                ? behaviour.latency.lowerBound : state.random.uniform(in: behaviour.latency)
            var fault: FakeProviderBehaviour.Fault?
            if !state.behaviour.scriptedFaults.isEmpty {
                fault = state.behaviour.scriptedFaults.removeFirst()
            } else {
                let draw = state.random.unit()
                var edge = 0.0
                for (candidate, rate) in behaviour.faultRates.sorted(by: { "\($0.key)" < "\($1.key)" }) {
                    edge += rate
                    if draw < edge {
                        fault = candidate
                        break
                    }
                }
            }
            if let fault { state.counters.faults[fault, default: 0] += 1 }
            switch fault {
            case .internalError?:
                return .respond(status: 500, headers: limitHeaders, body: Self.errorBody("internal error"), after: latency)
            case .unavailable?: return .respond(status: 503, headers: limitHeaders, body: Self.errorBody("overloaded"), after: latency)
            case .hang?:
                guard let seconds = behaviour.hangSeconds else { return .hang }
                return .respond(status: 504, headers: limitHeaders, body: Self.errorBody("upstream timed out"), after: seconds)
            case .malformedBody?: return .respond(status: 200, headers: limitHeaders, body: "{\"choices\": [ {\"mess", after: latency)
            case .dropConnection?: return .drop(after: latency)
            case nil:
                return .respond(status: 200, headers: limitHeaders, body: reply.body, after: latency, succeeded: true)
            }
        }
    }

    /// Marks a delayed answer as sent and returns its limit headers as they stand now.
    /// Counts requests whose connection closed before their answer was written.
    func abandoned(_ count: Int) {
        state.withLock { $0.counters.abandoned += count }
    }

    func finished(anthropic: Bool, succeeded: Bool = false) -> [(String, String)] {
        state.withLock { state in
            state.counters.inFlight -= 1
            state.counters.answered += 1
            if succeeded { state.counters.succeeded += 1 }
            return Self.limitHeaders(state, now: Date().timeIntervalSince(started), anthropic: anthropic)
        }
    }

    /// OpenAI's or Anthropic's request-limit headers at `now` (seconds since the fake started):
    /// the limit, what is left, and when a request is allowed again (the next whole second, or
    /// when the oldest request of the minute leaves it).
    static func limitHeaders(_ state: State, now: Double, anthropic: Bool) -> [(String, String)] {
        guard state.behaviour.sendsLimitHeaders, let rpm = state.behaviour.requestsPerMinute else { return [] }
        let recent = state.requestTimes.filter { $0 > now - 60 }
        let remaining: Int
        let reset: Double
        switch state.behaviour.limitWindow {
        case .slidingMinute:
            remaining = max(0, Int(rpm) - recent.count)
            reset = max(0, (recent.first ?? now) + 60 - now)
        case .perSecond:
            remaining = max(0, Int((rpm / 60).rounded(.down)) - recent.filter { $0 >= now.rounded(.down) }.count)
            reset = now.rounded(.down) + 1 - now
        case .bucket:
            let level = bucketLevel(state, rpm: rpm, now: now)
            remaining = max(0, Int(level.rounded(.down)))
            reset = (rpm - level) / (rpm / 60)
        }
        if anthropic {
            return [
                ("anthropic-ratelimit-requests-limit", "\(Int(rpm))"), ("anthropic-ratelimit-requests-remaining", "\(remaining)"),
                ("anthropic-ratelimit-requests-reset", ISO8601DateFormatter().string(from: Date().addingTimeInterval(reset))),
            ]
        }
        return [
            ("x-ratelimit-limit-requests", "\(Int(rpm))"), ("x-ratelimit-remaining-requests", "\(remaining)"),
            ("x-ratelimit-reset-requests", "\(Int((reset * 1000).rounded(.up)))ms"),
        ]
    }

    /// Requests left in the `.bucket` window at `now`: full at the start, refilled at the limit's rate.
    static func bucketLevel(_ state: State, rpm: Double, now: Double) -> Double {
        guard let level = state.bucketLevel else { return rpm }
        return min(rpm, level + (now - state.bucketAt) * rpm / 60)
    }

    static func errorBody(_ message: String, code: String? = nil) -> String {
        JSONWriter.string(["error": ["message": .string(message), "type": "fake_error", "code": code.map(JSONValue.string) ?? .null]])
    }

    /// An answer in the endpoint's shape: JSON fitting the schema found in the system prompt,
    /// or plain text when there is none. A packed request (a keyed `results` schema) gets one
    /// entry per row, each answered from that row's own text, then `spoil`ed if asked (`pick`,
    /// from 0 to 1, chooses the row).
    /// An embeddings reply: the built-in provider's vectors, listed last to first by `index` so a
    /// client that ignores the index is caught.
    static func embeddings(for request: JSONValue) -> (body: String, tokens: Double?, packedRows: Int) {
        let texts = request["input"]?.arrayValue?.compactMap(\.stringValue) ?? request["input"]?.stringValue.map { [$0] } ?? []
        let dimensions = request["dimensions"]?.intValue ?? 64
        let data: [JSONValue] = texts.enumerated().reversed().map { index, text in
            [
                "object": "embedding", "index": .int(index),
                "embedding": .array(OfflineEmbedding.vector(of: text, dimensions: dimensions).map(JSONValue.double)),
            ]
        }
        let tokens = max(1, texts.reduce(0) { $0 + $1.utf8.count } / 4)
        let body = JSONWriter.string([
            "object": "list", "data": .array(data), "model": .string(request["model"]?.stringValue ?? "fake"),
            "usage": ["prompt_tokens": .int(tokens), "total_tokens": .int(tokens)],
        ])
        return (body, Double(tokens), 0)
    }

    /// The schema a request asks to be enforced: OpenAI's `response_format` of type
    /// `json_schema`, or Anthropic's `output_format`.
    static func enforcedSchema(of request: JSONValue) -> JSONValue? {
        if request["response_format"]?["type"] == "json_schema" { return request["response_format"]?["json_schema"]?["schema"] }
        return request["output_format"]?["schema"]
    }

    /// The tool a request's reply calls, when it offers tools and does not forbid them: the one
    /// its choice names, else the first (OpenAI's function tools, or Anthropic's).
    static func calledTool(of request: JSONValue, anthropic: Bool) -> (name: String, parameters: JSONValue)? {
        let tools: [(name: String, parameters: JSONValue)] = (request["tools"]?.arrayValue ?? []).compactMap { tool in
            let function = anthropic ? tool : tool["function"] ?? .null
            guard let name = function["name"]?.stringValue else { return nil }
            return (name, (anthropic ? function["input_schema"] : function["parameters"]) ?? ["type": "object"])
        }
        let choice = request["tool_choice"]
        if choice?.stringValue == "none" || choice?["type"]?.stringValue == "none" { return nil }
        if let named = (choice?["function"]?["name"] ?? choice?["name"])?.stringValue { return tools.first { $0.name == named } }
        return tools.first
    }

    /// The system prompt: a string, or Anthropic's text blocks.
    static func systemText(of request: JSONValue) -> String? {
        if let text = request["system"]?.stringValue { return text }
        if let blocks = request["system"]?.arrayValue { return blocks.compactMap { $0["text"]?.stringValue }.joined() }
        return request["messages"]?.arrayValue?.first { $0["role"] == "system" }?["content"]?.stringValue
    }

    /// The prefix a provider would cache: OpenAI's system prompt (cached automatically), or
    /// Anthropic's when marked with `cache_control`; at least 1,024 tokens (4,096 characters).
    static func cacheablePrefix(of request: JSONValue, anthropic: Bool) -> String? {
        if anthropic, request["system"]?.arrayValue?.last?["cache_control"] == nil { return nil }
        guard let system = systemText(of: request), system.utf8.count >= 4_096 else { return nil }
        return (anthropic ? "anthropic" : "openai") + "\u{1F}" + (request["model"]?.stringValue ?? "") + "\u{1F}" + system
    }

    static func reply(
        to request: JSONValue, anthropic: Bool, spoil: FakeProviderBehaviour.PackFault? = nil, pick: Double = 0, breaksSchema: Bool = false,
        cache: (tokens: Int, hit: Bool)? = nil, reasoning: Int = 0, flex: Bool = false
    ) -> (body: String, tokens: Double?, packedRows: Int) {
        let messages = request["messages"]?.arrayValue ?? []
        let system = systemText(of: request) ?? ""
        let prompt = messages.last { $0["role"] == "user" }?["content"]?.stringValue ?? ""
        var text = "fake reply to: " + prompt.prefix(80)
        var packedRows = 0
        let prompted = system.range(of: "matches this JSON Schema:\n").flatMap { marker in
            try? OutputSchema(JSONParser.parse(String(system[marker.upperBound...])))
        }
        let tool = calledTool(of: request, anthropic: anthropic)
        if let schema = tool.flatMap({ try? OutputSchema($0.parameters) }) ?? enforcedSchema(of: request).flatMap({ try? OutputSchema($0) })
            ?? prompted
        {
            // A correction after the rows is a user turn of its own: the rows are in the first.
            let rowsTurn = messages.first { $0["role"] == "user" }?["content"]?.stringValue ?? prompt
            if let entries = packedAnswer(prompt: rowsTurn, schema: schema) {
                packedRows = entries.count
                text = JSONWriter.string(["results": .array(spoiled(entries, by: spoil, pick: pick))])
            } else {
                var answer = BuiltinProvider().answer(for: JSONObject([("text", .string(prompt))]), schema: schema.root)
                // A model answering from the prompt alone leaves a field out now and then.
                if breaksSchema, case .object(let object) = answer, let first = object.keys.first {
                    answer = .object(object.with(first, .null))
                }
                text = JSONWriter.string(answer)
            }
        }
        let images = FakeImageTokens.split(request["messages"], anthropic: anthropic)
        let promptTokens = max(1, (images.text.map { JSONWriter.string($0).utf8.count } ?? 0) / 4 + images.imageTokens)
        var completionTokens = max(1, text.utf8.count / 4) + reasoning
        var finish = "stop"
        if let limit = (request["max_completion_tokens"] ?? request["max_tokens"])?.intValue, completionTokens > limit, reasoning > 0 {
            // Thought until the limit: nothing said, the whole limit billed.
            (text, completionTokens, finish) = ("", limit, "length")
        }
        let reasoningTokens = min(reasoning, completionTokens)
        let model = request["model"]?.stringValue ?? "fake"
        let tokens = Double(promptTokens + completionTokens)
        if anthropic {
            // Anthropic counts the marked prefix apart from `input_tokens`: read, or written.
            let content: JSONValue =
                tool.map {
                    [["type": "tool_use", "id": "toolu_fake_0", "name": .string($0.name), "input": (try? JSONParser.parse(text)) ?? [:]]]
                }
                ?? [["type": "text", "text": .string(text)]]
            let body = JSONWriter.string([
                "id": "msg_fake", "type": "message", "role": "assistant", "model": .string(model),
                "content": content, "stop_reason": finish == "length" ? "max_tokens" : tool == nil ? "end_turn" : "tool_use",
                "usage": [
                    "input_tokens": .int(promptTokens), "output_tokens": .int(completionTokens),
                    "cache_read_input_tokens": .int(cache?.hit == true ? cache!.tokens : 0),
                    "cache_creation_input_tokens": .int(cache?.hit == false ? cache!.tokens : 0),
                ],
            ])
            return (body, tokens, packedRows)
        }
        let body = JSONWriter.string([
            "id": "chatcmpl-fake", "object": "chat.completion", "model": .string(model), "service_tier": flex ? "flex" : "default",
            "choices": [
                [
                    "index": 0,
                    "message": tool.map { tool in
                        [
                            "role": "assistant", "content": .null,
                            "tool_calls": [
                                [
                                    "id": "call_fake_0", "type": "function",
                                    "function": ["name": .string(tool.name), "arguments": .string(text)],
                                ]
                            ],
                        ]
                    } ?? ["role": "assistant", "content": .string(text)],
                    "finish_reason": .string(tool == nil || finish == "length" ? finish : "tool_calls"),
                ]
            ],
            "usage": [
                "prompt_tokens": .int(promptTokens), "completion_tokens": .int(completionTokens),
                "total_tokens": .int(promptTokens + completionTokens),
                // OpenAI caches in steps of 128 tokens, and counts them within `prompt_tokens`.
                "prompt_tokens_details": ["cached_tokens": .int(cache?.hit == true ? min(promptTokens, cache!.tokens / 128 * 128) : 0)],
                "completion_tokens_details": ["reasoning_tokens": .int(reasoningTokens)],
            ],
        ])
        return (body, tokens, packedRows)
    }

    /// The entries of a packed reply, when `schema` is the keyed wrapper: each key answered
    /// from the text under its `### Row KEY` heading, in the prompt's order.
    static func packedAnswer(prompt: String, schema: OutputSchema) -> [JSONValue]? {
        guard schema.json["properties"]?["results"]?["items"]?["properties"]?["key"] != nil,
            let outputSchema = try? OutputSchema(schema.json["properties"]?["results"]?["items"]?["properties"]?["output"] ?? .null)
        else { return nil }
        var keys: [String] = []
        var rows: [String: String] = [:]
        for section in prompt.components(separatedBy: "\n### Row ").dropFirst() {
            let lines = section.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
            keys.append(String(lines[0]))
            rows[String(lines[0])] = lines.count > 1 ? String(lines[1]).trimmingCharacters(in: .whitespacesAndNewlines) : ""
        }
        return keys.map { key in
            let answer = BuiltinProvider().answer(for: JSONObject([("text", .string(rows[key] ?? ""))]), schema: outputSchema.root)
            return ["key": .string(key), "output": answer]
        }
    }

    /// `entries` with one row spoiled as `fault` says; `pick` (0–1) chooses which.
    static func spoiled(_ entries: [JSONValue], by fault: FakeProviderBehaviour.PackFault?, pick: Double) -> [JSONValue] {
        guard let fault, entries.count > 1 else { return entries }
        var entries = entries
        let index = min(entries.count - 1, Int(pick * Double(entries.count)))
        let other = (index + 1) % entries.count
        switch fault {
        case .dropRow: entries.remove(at: index)
        case .duplicateRow:
            guard case .object(var copy) = entries[index] else { break }
            copy["output"] = entries[other]["output"]
            entries.append(.object(copy))
        case .swapRows: entries.swapAt(index, other)
        case .wrongKey:
            guard case .object(var entry) = entries[index] else { break }
            entry["key"] = "r-unknown"
            entries[index] = .object(entry)
        case .invalidRow:
            guard case .object(var entry) = entries[index] else { break }
            entry["output"] = entry["output"]?.stringValue == nil ? 42 : .null
            entries[index] = .object(entry)
        }
        return entries
    }
}

/// Lets the channel initializer reach the server, which exists only once binding returns.
final class ServerBox: @unchecked Sendable {
    // Written once before any connection can be accepted and read only afterwards.
    var server: FakeProviderServer?
}

/// A small deterministic generator (SplitMix64), so fault sequences repeat run to run.
struct SeededRandom {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    mutating func uniform(in range: ClosedRange<Double>) -> Double {
        range.lowerBound + unit() * (range.upperBound - range.lowerBound)
    }
}

/// One connection's requests: collects the body, asks the server what to do, does it.
final class FakeRequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let server: FakeProviderServer
    var head: HTTPRequestHead?
    var body = ""
    /// Requests accepted on this connection whose answer is still to come.
    var unanswered = 0

    init(server: FakeProviderServer) {
        self.server = server
    }

    /// A connection closed with requests unanswered: the client gave up on them (or died).
    func channelInactive(context: ChannelHandlerContext) {
        if unanswered > 0 { server.abandoned(unanswered) }
        unanswered = 0
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = ""
        case .body(let buffer):
            body += String(buffer: buffer)
        case .end:
            guard let head else { return }
            let verdict = server.handle(path: head.uri, headers: head.headers, body: body)
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
            let server = self.server
            let version = head.version
            switch verdict {
            case .hang:
                return
            case .drop(let after):
                let anthropic = head.uri.hasSuffix("/messages")
                context.eventLoop.scheduleTask(in: .milliseconds(Int64(after * 1000))) {
                    _ = server.finished(anthropic: anthropic)
                    bound.value.close(promise: nil)
                }
            case .respond(let status, let headers, let text, let after, let succeeded):
                let anthropic = head.uri.hasSuffix("/messages")
                let write = { @Sendable (limits: [(String, String)]) in
                    var fields = HTTPHeaders(headers + limits)
                    fields.add(name: "Content-Type", value: "application/json")
                    fields.add(name: "Content-Length", value: "\(text.utf8.count)")
                    let context = bound.value
                    context.write(
                        NIOAny(
                            HTTPServerResponsePart.head(
                                HTTPResponseHead(version: version, status: .init(statusCode: status), headers: fields))),
                        promise: nil)
                    context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
                    context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
                }
                if head.uri != "/_fake/counters", [200, 500, 503, 504].contains(status) {
                    unanswered += 1
                    context.eventLoop.scheduleTask(in: .milliseconds(Int64(after * 1000))) {
                        handler.value.unanswered = max(0, handler.value.unanswered - 1)
                        write(server.finished(anthropic: anthropic, succeeded: succeeded))
                    }
                } else {
                    write([])
                }
            }
        }
    }
}
