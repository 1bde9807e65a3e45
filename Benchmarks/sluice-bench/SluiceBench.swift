import Foundation
import Logging
import SluiceCore
import SluiceEngine
import SluiceFakeProvider
import SluiceIngest
import SluiceProviders
import SluiceStore
import SluiceStorePostgres
import SluiceStoreSQLite

/// Throughput and memory benchmarks. Run in release:
///
///     swift run -c release sluice-bench ingest --rows 1000000
///     swift run -c release sluice-bench engine --items 200000 --concurrency 16
///
/// `ingest` and `engine` take `--database postgres://…` to run on PostgreSQL instead of a
/// SQLite file in a temp folder.
///
/// Each prints one line of figures; BENCHMARKS.md records them with these commands.
@main
struct SluiceBench {
    static func main() async throws {
        var arguments = Array(CommandLine.arguments.dropFirst())
        guard let mode = arguments.first else {
            print(
                "usage: sluice-bench ingest [--rows N] [--database URL] | parse [--rows N] | engine [--items N] [--concurrency N] [--no-cache] [--database URL]"
                    + " | limits [--items N] [--fake-rpm N] [--rpm N] [--fake-tpm N] [--tpm N] [--max-tokens N] [--latency-ms N]"
                    + " [--window sliding|per-second|bucket] [--no-headers] [--concurrency N] [--schema-break-percent N] [--no-strict]"
                    + " [--prefix-tokens N] [--anthropic] [--reserve-percent N] [--others-rpm N] [--trace]"
            )
            exit(64)
        }
        arguments.removeFirst()
        func option(_ name: String, _ fallback: Int) -> Int {
            guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count, let value = Int(arguments[index + 1]) else {
                return fallback
            }
            return value
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        switch mode {
        case "parse": try parse(rows: option("--rows", 1_000_000), directory: directory)
        case "limits":
            let window: FakeProviderBehaviour.LimitWindow
            switch arguments.firstIndex(of: "--window").map({ arguments.indices.contains($0 + 1) ? arguments[$0 + 1] : "" }) {
            case nil, "sliding"?: window = arguments.contains("--per-second") ? .perSecond : .slidingMinute
            case "per-second"?: window = .perSecond
            case "bucket"?: window = .bucket
            case let other?:
                print("unknown window '\(other)': sliding, per-second or bucket")
                exit(64)
            }
            try await limits(
                LimitsScenario(
                    items: option("--items", 2_000), fakeRPM: Double(option("--fake-rpm", 600)),
                    configuredRPM: Double(option("--rpm", 600)),
                    fakeTPM: Double(option("--fake-tpm", 0)), configuredTPM: Double(option("--tpm", 0)),
                    maxTokens: option("--max-tokens", 0), latencyMilliseconds: option("--latency-ms", 400), window: window,
                    headers: !arguments.contains("--no-headers"), concurrency: option("--concurrency", 64),
                    schemaBreakPercent: option("--schema-break-percent", 0), strictSchemas: !arguments.contains("--no-strict"),
                    prefixTokens: option("--prefix-tokens", 0), anthropic: arguments.contains("--anthropic"),
                    reservePercent: option("--reserve-percent", 0), othersRPM: option("--others-rpm", 0),
                    trace: arguments.contains("--trace")),
                directory: directory)
        case "ingest", "engine":
            let url = arguments.firstIndex(of: "--database").flatMap { arguments.indices.contains($0 + 1) ? arguments[$0 + 1] : nil }
            var postgres: PostgreSQLDatabase?
            if let url {
                postgres = try await PostgreSQLDatabase.open(location: try PostgresLocation(url: url), logger: Logger(label: "bench"))
            }
            let store =
                try postgres.map { SQLJobStore(database: $0) }
                ?? SQLJobStore.sqlite(path: directory.appendingPathComponent("bench.sqlite").path)
            if mode == "ingest" {
                try await ingest(rows: option("--rows", 1_000_000), store: store, directory: directory)
            } else {
                try await engine(
                    items: option("--items", 200_000), concurrency: option("--concurrency", 16), cache: !arguments.contains("--no-cache"),
                    store: store, directory: directory)
            }
            await postgres?.close()
        default:
            print("unknown benchmark \(mode)")
            exit(64)
        }
    }

    /// A CSV of `rows` support-ticket-like rows, written in a stream (never whole in memory).
    static func generateCSV(rows: Int, at path: String) throws -> Int {
        precondition(FileManager.default.createFile(atPath: path, contents: nil), "cannot create \(path)")
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        let words = ["great", "slow", "refund", "thanks", "broken", "login", "helpful", "late", "invoice", "perfect"]
        var chunk = "id,customer,channel,text\n"
        var bytes = 0
        for index in 0..<rows {
            let a = words[index % words.count]
            let b = words[(index / 7) % words.count]
            chunk +=
                "\(index),customer-\(index % 5000),\(index % 3 == 0 ? "email" : "chat"),\"Ticket \(index): the \(a) service, \(b) again\"\n"
            if chunk.utf8.count > 1 << 20 {
                bytes += chunk.utf8.count
                handle.write(Data(chunk.utf8))
                chunk = ""
            }
        }
        bytes += chunk.utf8.count
        handle.write(Data(chunk.utf8))
        return bytes
    }

    /// Parsing alone: CSV bytes to records.
    static func parse(rows: Int, directory: URL) throws {
        let path = directory.appendingPathComponent("input.csv").path
        let bytes = try generateCSV(rows: rows, at: path)
        let start = Date()
        let parser = try CSVRecordParser(reader: try ByteReader(path: path))
        var count = 0
        while let step = try parser.next() { if case .record = step { count += 1 } }
        let seconds = Date().timeIntervalSince(start)
        report("parse", ["rows": "\(count)", "MB": mb(bytes), "seconds": f(seconds), "rows/s": f0(Double(count) / seconds)])
    }

    /// Ingest end to end: parse, build items, store them (SQLite, or PostgreSQL by COPY), queue the job.
    static func ingest(rows: Int, store: SQLJobStore, directory: URL) async throws {
        let path = directory.appendingPathComponent("input.csv").path
        let bytes = try generateCSV(rows: rows, at: path)
        let spec = try JobSpec.parse(["template": "Classify: {{text}}"], preset: { _ in nil })
        let job = try await store.createJob(
            NewJob(owner: "bench", name: "ingest", spec: spec, sources: [JobSource(path: path, displayName: "input.csv", format: .csv)]),
            now: Date())
        let rssBefore = peakRSS()
        let start = Date()
        let queued = try await JobIngestor(store: store, owner: "ingestor").takeAndIngest(jobID: job.id)
        let seconds = Date().timeIntervalSince(start)
        precondition(queued.status == .queued && queued.counts.total == rows, "ingest failed: \(queued.errors)")
        report(
            "ingest",
            [
                "rows": "\(rows)", "MB": mb(bytes), "seconds": f(seconds), "rows/s": f0(Double(rows) / seconds),
                "peak RSS MB before": mb(rssBefore), "peak RSS MB": mb(peakRSS()),
            ])
    }

    /// The engine end to end with the built-in provider: claim, call, validate, record.
    static func engine(items: Int, concurrency: Int, cache: Bool, store: SQLJobStore, directory: URL) async throws {
        let path = directory.appendingPathComponent("input.csv").path
        _ = try generateCSV(rows: items, at: path)
        let spec = try JobSpec.parse(
            [
                "template": "Classify: {{text}}", "cache": .bool(cache),
                "output_schema": [
                    "type": "object", "required": ["sentiment", "score"],
                    "properties": [
                        "sentiment": ["type": "string", "enum": ["positive", "neutral", "negative"]],
                        "score": ["type": "integer", "minimum": 1, "maximum": 10],
                    ],
                ],
            ],
            preset: { _ in nil })
        let job = try await store.createJob(
            NewJob(owner: "bench", name: "engine", spec: spec, sources: [JobSource(path: path, displayName: "input.csv", format: .csv)]),
            now: Date())
        _ = try await JobIngestor(store: store, owner: "ingestor").takeAndIngest(jobID: job.id)
        let worker = Worker(
            store: store, providers: ProviderRegistry([BuiltinProvider()]),
            configuration: EngineConfiguration(concurrency: concurrency, idleInterval: 0.001))
        let start = Date()
        let done = try await runUntilFinal(worker: worker, store: store, jobID: job.id)
        let seconds = (done.finishedAt ?? Date()).timeIntervalSince(start)
        precondition(done.status == .completed, "engine run ended \(done.status): \(done.errors.prefix(3))")
        report(
            "engine",
            [
                "items": "\(items)", "concurrency": "\(concurrency)", "cache": cache ? "on" : "off", "seconds": f(seconds),
                "items/s": f0(Double(items) / seconds),
                "peak RSS MB": mb(peakRSS()),
            ])
    }

    /// One rate-limit scenario: what the fake enforces, what Sluice is told, the job's spec.
    struct LimitsScenario {
        var items: Int
        var fakeRPM: Double
        var configuredRPM: Double
        var fakeTPM: Double
        var configuredTPM: Double
        /// `max_tokens` in the spec; 0 sets none.
        var maxTokens: Int
        var latencyMilliseconds: Int
        var window: FakeProviderBehaviour.LimitWindow
        var headers: Bool
        var concurrency: Int
        /// Share of answers to a schema given only in the prompt that break it (the fake keeps
        /// an enforced schema always).
        var schemaBreakPercent: Int
        /// Whether the provider asks for the schema to be enforced (`strict_schemas`).
        var strictSchemas: Bool
        /// A system prompt of about this many tokens, the same for every row: what a prompt
        /// cache can serve.
        var prefixTokens: Int
        /// Through the Anthropic provider instead of the OpenAI-compatible one.
        var anthropic: Bool
        /// `limits.reserve`, in percent: the share of every limit Sluice leaves to the key's other users.
        var reservePercent: Int
        /// Another user of the same key (the company's chat app), calling the fake evenly at
        /// this rate from a minute before the job starts until it ends: does it get 429s?
        var othersRPM: Int
        /// Print the fake's per-second log after the figures.
        var trace: Bool
    }

    /// A job through the OpenAI-compatible provider against the fake: the rate achieved against
    /// the limit that binds, 429s, CPU per call.
    static func limits(_ scenario: LimitsScenario, directory: URL) async throws {
        var behaviour = FakeProviderBehaviour()
        let latency = Double(scenario.latencyMilliseconds) / 1000
        behaviour.latency = (latency * 0.5)...(latency * 1.5)
        behaviour.requestsPerMinute = scenario.fakeRPM > 0 ? scenario.fakeRPM : nil
        behaviour.tokensPerMinute = scenario.fakeTPM > 0 ? scenario.fakeTPM : nil
        behaviour.limitWindow = scenario.window
        behaviour.sendsLimitHeaders = scenario.headers
        behaviour.schemaBreakRate = Double(scenario.schemaBreakPercent) / 100
        let fake = try await FakeProviderServer(behaviour: behaviour)
        let http = ProviderHTTPClient()
        let store = try SQLJobStore.sqlite(path: directory.appendingPathComponent("bench.sqlite").path)
        let endpoint = ProviderEndpoint(baseURL: fake.baseURL + "/v1", apiKey: "sk-bench", http: http)
        let provider: any ModelProvider =
            scenario.anthropic
            ? AnthropicProvider(name: "openai", endpoint: endpoint, strictSchemas: scenario.strictSchemas)
            : OpenAICompatibleProvider(name: "openai", endpoint: endpoint, strictSchemas: scenario.strictSchemas)
        let limits = RateLimits(
            requestsPerMinute: scenario.configuredRPM > 0 ? scenario.configuredRPM : nil,
            tokensPerMinute: scenario.configuredTPM > 0 ? scenario.configuredTPM : nil, reserve: Double(scenario.reservePercent) / 100)
        let registry = ProviderRegistry(entries: [ProviderEntry(provider, limits: limits)])
        var specJSON: JSONValue = [
            "template": "Classify: {{text}}", "provider": "openai", "model": "bench", "max_attempts": 10,
            "output_schema": [
                "type": "object", "required": ["score"], "properties": ["score": ["type": "integer", "minimum": 1, "maximum": 10]],
            ],
        ]
        if scenario.maxTokens > 0 { specJSON = .object(specJSON.objectValue!.with("params", ["max_tokens": .int(scenario.maxTokens)])) }
        if scenario.prefixTokens > 0 {
            // Instructions shared by every row, about four characters a token.
            let rule = "Weigh the customer's words for tone, intent and detail before scoring. "
            let instructions = String(repeating: rule, count: scenario.prefixTokens * 4 / rule.utf8.count + 1)
            specJSON = .object(specJSON.objectValue!.with("system", .string(instructions)))
        }
        let spec = try JobSpec.parse(specJSON, preset: { _ in nil })
        let path = directory.appendingPathComponent("input.csv").path
        _ = try generateCSV(rows: scenario.items, at: path)
        let job = try await store.createJob(
            NewJob(owner: "bench", name: "limits", spec: spec, sources: [JobSource(path: path, displayName: "input.csv", format: .csv)]),
            now: Date())
        _ = try await JobIngestor(store: store, owner: "ingestor").takeAndIngest(jobID: job.id)
        let worker = Worker(store: store, providers: registry, configuration: EngineConfiguration(concurrency: scenario.concurrency))
        let others = OtherClient(
            provider: OpenAICompatibleProvider(
                name: "others", endpoint: ProviderEndpoint(baseURL: fake.baseURL + "/v1", apiKey: "sk-bench", http: http)),
            callsPerMinute: Double(scenario.othersRPM), epoch: fake.started)
        let othersTask = Task { await others.run() }
        // The other client had the key to itself for a minute before the job started.
        if scenario.othersRPM > 0 { try await Task.sleep(for: .seconds(60)) }
        let cpuBefore = cpuSeconds()
        let start = Date()
        let done = try await runUntilFinal(worker: worker, store: store, jobID: job.id)
        let seconds = Date().timeIntervalSince(start)
        let cpu = cpuSeconds() - cpuBefore
        othersTask.cancel()
        let othersSent = await othersTask.value
        let counters = fake.counters
        try await http.shutdown()
        try await fake.stop()
        precondition(done.status == .completed, "limits run ended \(done.status): \(done.errors.prefix(3))")
        let calls = counters.received
        // The binding limit as calls a second: requests, or tokens at what a call really costs.
        let tokensPerCall = Double(done.usage.promptTokens + done.usage.completionTokens) / Double(scenario.items)
        let requestBound = scenario.fakeRPM > 0 ? scenario.fakeRPM / 60 : Double.infinity
        let tokenBound = scenario.fakeTPM > 0 ? scenario.fakeTPM / 60 / tokensPerCall : Double.infinity
        let bound = min(requestBound, tokenBound)
        let overall = Double(scenario.items) / seconds
        let windowName =
            switch scenario.window {
            case .slidingMinute: "sliding minute"
            case .perSecond: "per second"
            case .bucket: "bucket"
            }
        var figures: KeyValuePairs<String, String> = [:]
        figures = [
            "items": "\(scenario.items)",
            "fake limit": (scenario.fakeRPM > 0 ? f0(scenario.fakeRPM) + " rpm " : "")
                + (scenario.fakeTPM > 0 ? f0(scenario.fakeTPM) + " tpm " : "") + windowName,
            "configured": (scenario.configuredRPM > 0 ? f0(scenario.configuredRPM) + " rpm" : "no rpm")
                + (scenario.configuredTPM > 0 ? ", " + f0(scenario.configuredTPM) + " tpm" : ""),
            "max_tokens": scenario.maxTokens > 0 ? "\(scenario.maxTokens)" : "none", "headers": scenario.headers ? "yes" : "no",
            "seconds": f(seconds), "calls": "\(calls)", "429s": "\(counters.rateLimited)",
            "tokens/call": f(tokensPerCall),
            "rate/s": f(overall)
                + (bound.isFinite ? String(format: " (%.1f%% of the binding limit, %.2f/s)", overall / bound * 100, bound) : ""),
            "CPU ms/call": String(format: "%.3f", cpu * 1000 / Double(max(calls, 1))),
            "strict schemas": scenario.strictSchemas ? "on" : "off",
            "repair calls/1000 rows": f(Double(counters.succeeded - scenario.items) * 1000 / Double(scenario.items)),
            "cached share of prompt tokens": String(
                format: "%.1f%%", Double(done.usage.cachedTokens) * 100 / Double(max(1, done.usage.promptTokens))),
        ]
        report("limits", figures)
        if scenario.reservePercent > 0 || scenario.othersRPM > 0 {
            // Sluice's calls per sliding minute: what the fake accepted or refused, less the
            // other client's, by the second each was sent (the edges of a minute may be off by a call).
            var perSecond = counters.acceptedPerSecond.merging(counters.rateLimitedPerSecond, uniquingKeysWith: +)
            for (second, sent) in othersSent.perSecond { perSecond[second, default: 0] -= sent }
            // From the job's start: the other client's minute alone before it is not ours.
            let first = max(perSecond.keys.min() ?? 0, Int(start.timeIntervalSince(fake.started)))
            let last = perSecond.keys.max() ?? 0
            let minutes = (first...max(first, last - 59)).map { start in (start..<start + 60).reduce(0) { $0 + (perSecond[$1] ?? 0) } }
            report(
                "headroom",
                [
                    "reserve": "\(scenario.reservePercent)%", "Sluice's busiest minute": "\(minutes.max() ?? 0) calls",
                    "its quietest full minute": last - first >= 60 ? "\(minutes.min() ?? 0) calls" : "(shorter than a minute)",
                    "the other client": "\(othersSent.calls) calls, \(othersSent.rateLimited) answered 429",
                ])
        }
        if scenario.trace {
            // The fake's own per-second log: accepted calls and 429s.
            for second in 0...(counters.acceptedPerSecond.keys.max() ?? 0) {
                let accepted = counters.acceptedPerSecond[second] ?? 0
                print("  second \(second): \(accepted) accepted, \(counters.rateLimitedPerSecond[second] ?? 0) 429s")
            }
        }
    }

    /// Another user of the provider key: one call every `60 / callsPerMinute` seconds until
    /// cancelled, each counted by the second it was sent and whether it was refused with a 429.
    struct OtherClient {
        let provider: any ModelProvider
        let callsPerMinute: Double
        /// What the seconds are counted from (the fake's start, as its counters are).
        let epoch: Date

        struct Sent: Sendable {
            var calls = 0
            var rateLimited = 0
            var perSecond: [Int: Int] = [:]
        }

        func run() async -> Sent {
            guard callsPerMinute > 0 else { return Sent() }
            let request = ModelRequest(
                model: "chat-app", system: nil, messages: [ChatMessage(role: .user, content: "hello from the chat app")],
                params: JSONObject(),
                outputSchema: nil, inputs: [])
            return await withTaskGroup(of: Bool.self) { group in
                var sent = Sent()
                var next = Date()
                while !Task.isCancelled {
                    let wait = next.timeIntervalSinceNow
                    if wait > 0 { try? await Task.sleep(for: .seconds(wait)) }
                    if Task.isCancelled { break }
                    sent.calls += 1
                    sent.perSecond[Int(Date().timeIntervalSince(epoch)), default: 0] += 1
                    group.addTask {
                        do throws(ProviderFailure) {
                            _ = try await provider.complete(request)
                            return false
                        } catch {
                            if case .rateLimited = error { return true }
                            return false
                        }
                    }
                    next = next.addingTimeInterval(60 / callsPerMinute)
                }
                for await refused in group where refused { sent.rateLimited += 1 }
                return sent
            }
        }
    }

    /// Runs `worker` until the job is final, then drains it.
    static func runUntilFinal(worker: Worker, store: some JobStore, jobID: String) async throws -> Job {
        try await withThrowingTaskGroup(of: Job?.self) { group in
            group.addTask {
                try await worker.run()
                return nil
            }
            group.addTask {
                while true {
                    if let job = try await store.job(id: jobID), job.status.isFinal {
                        worker.drain()
                        return job
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            var finished: Job?
            for try await result in group { finished = finished ?? result }
            return finished!
        }
    }

    /// User plus system CPU time of this process, in seconds.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1_000_000
    }

    /// The process's peak resident set (VmHWM), in bytes.
    static func peakRSS() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return 0 }
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
    }

    static func report(_ name: String, _ figures: KeyValuePairs<String, String>) {
        print(name + ": " + figures.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
    }

    static func mb(_ bytes: Int) -> String { String(format: "%.1f", Double(bytes) / 1_048_576) }
    static func f(_ value: Double) -> String { String(format: "%.2f", value) }
    static func f0(_ value: Double) -> String { String(format: "%.0f", value) }
}
