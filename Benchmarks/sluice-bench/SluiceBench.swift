import Foundation
import Logging
import SluiceCore
import SluiceEngine
import SluiceFakeProvider
import SluiceIngest
import SluiceProviders
import SluiceStore

/// Throughput and memory benchmarks. Run in release:
///
///     swift run -c release sluice-bench ingest --rows 1000000
///     swift run -c release sluice-bench engine --items 200000 --concurrency 16
///
/// Each prints one line of figures; BENCHMARKS.md records them with these commands.
@main
struct SluiceBench {
    static func main() async throws {
        var arguments = Array(CommandLine.arguments.dropFirst())
        guard let mode = arguments.first else {
            print(
                "usage: sluice-bench ingest [--rows N] | parse [--rows N] | engine [--items N] [--concurrency N]"
                    + " | limits [--items N] [--fake-rpm N] [--rpm N] [--latency-ms N] [--per-second] [--no-headers]")
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
            try await limits(
                items: option("--items", 2_000), fakeRPM: Double(option("--fake-rpm", 600)), configuredRPM: Double(option("--rpm", 600)),
                latencyMilliseconds: option("--latency-ms", 400), perSecond: arguments.contains("--per-second"),
                headers: !arguments.contains("--no-headers"), concurrency: option("--concurrency", 64), directory: directory)
        case "ingest": try await ingest(rows: option("--rows", 1_000_000), directory: directory)
        case "engine": try await engine(items: option("--items", 200_000), concurrency: option("--concurrency", 16), directory: directory)
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

    /// Ingest end to end: parse, build items, store them in SQLite, queue the job.
    static func ingest(rows: Int, directory: URL) async throws {
        let path = directory.appendingPathComponent("input.csv").path
        let bytes = try generateCSV(rows: rows, at: path)
        let store = try SQLiteJobStore(path: directory.appendingPathComponent("bench.sqlite").path)
        let spec = try JobSpec.parse(["template": "Classify: {{text}}"], preset: { _ in nil })
        let job = try await store.createJob(
            NewJob(owner: "bench", name: "ingest", spec: spec, sources: [JobSource(path: path, displayName: "input.csv", format: .csv)]),
            now: Date())
        let rssBefore = peakRSS()
        let start = Date()
        let queued = try await JobIngestor(store: store).ingest(jobID: job.id)
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
    static func engine(items: Int, concurrency: Int, directory: URL) async throws {
        let path = directory.appendingPathComponent("input.csv").path
        _ = try generateCSV(rows: items, at: path)
        let store = try SQLiteJobStore(path: directory.appendingPathComponent("bench.sqlite").path)
        let spec = try JobSpec.parse(
            [
                "template": "Classify: {{text}}",
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
        _ = try await JobIngestor(store: store).ingest(jobID: job.id)
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
                "items": "\(items)", "concurrency": "\(concurrency)", "seconds": f(seconds), "items/s": f0(Double(items) / seconds),
                "peak RSS MB": mb(peakRSS()),
            ])
    }

    /// A job through the OpenAI-compatible provider against the fake enforcing `fakeRPM`, with
    /// Sluice configured at `configuredRPM` (0 for no limit): achieved rate, 429s, CPU per call.
    static func limits(
        items: Int, fakeRPM: Double, configuredRPM: Double, latencyMilliseconds: Int, perSecond: Bool, headers: Bool, concurrency: Int,
        directory: URL
    ) async throws {
        var behaviour = FakeProviderBehaviour()
        let latency = Double(latencyMilliseconds) / 1000
        behaviour.latency = (latency * 0.5)...(latency * 1.5)
        behaviour.requestsPerMinute = fakeRPM > 0 ? fakeRPM : nil
        behaviour.limitWindow = perSecond ? .perSecond : .slidingMinute
        behaviour.sendsLimitHeaders = headers
        let fake = try await FakeProviderServer(behaviour: behaviour)
        let http = ProviderHTTPClient()
        let store = try SQLiteJobStore(path: directory.appendingPathComponent("bench.sqlite").path)
        let provider = OpenAICompatibleProvider(
            name: "openai", endpoint: ProviderEndpoint(baseURL: fake.baseURL + "/v1", apiKey: "sk-bench", http: http))
        let limits = RateLimits(requestsPerMinute: configuredRPM > 0 ? configuredRPM : nil)
        let registry = ProviderRegistry(entries: [ProviderEntry(provider, limits: limits)])
        let spec = try JobSpec.parse(
            [
                "template": "Classify: {{text}}", "provider": "openai", "model": "bench", "max_attempts": 10,
                "output_schema": [
                    "type": "object", "required": ["score"], "properties": ["score": ["type": "integer", "minimum": 1, "maximum": 10]],
                ],
            ],
            preset: { _ in nil })
        let path = directory.appendingPathComponent("input.csv").path
        _ = try generateCSV(rows: items, at: path)
        let job = try await store.createJob(
            NewJob(owner: "bench", name: "limits", spec: spec, sources: [JobSource(path: path, displayName: "input.csv", format: .csv)]),
            now: Date())
        _ = try await JobIngestor(store: store).ingest(jobID: job.id)
        let worker = Worker(store: store, providers: registry, configuration: EngineConfiguration(concurrency: concurrency))
        let cpuBefore = cpuSeconds()
        let start = Date()
        let done = try await runUntilFinal(worker: worker, store: store, jobID: job.id)
        let seconds = Date().timeIntervalSince(start)
        let cpu = cpuSeconds() - cpuBefore
        let counters = fake.counters
        try await http.shutdown()
        try await fake.stop()
        precondition(done.status == .completed, "limits run ended \(done.status): \(done.errors.prefix(3))")
        let calls = counters.received
        let perSecondCounts = counters.acceptedPerSecond
        let lastSecond = perSecondCounts.keys.max() ?? 0
        // Rates over every second of a span, the idle ones included.
        func rate(from first: Int, to end: Int) -> Double {
            guard end > first else { return 0 }
            return Double(perSecondCounts.filter { $0.key >= first && $0.key < end }.values.reduce(0, +)) / Double(end - first)
        }
        let steadyRate = rate(from: 10, to: lastSecond - 5)
        let afterMinuteRate = rate(from: 60, to: lastSecond + 1)
        let afterMinute = lastSecond >= 60
        var figures: KeyValuePairs<String, String> = [:]
        figures = [
            "items": "\(items)", "fake rpm": fakeRPM > 0 ? f0(fakeRPM) + (perSecond ? " per second" : " sliding minute") : "none",
            "configured rpm": configuredRPM > 0 ? f0(configuredRPM) : "none", "headers": headers ? "yes" : "no", "seconds": f(seconds),
            "calls": "\(calls)", "429s": "\(counters.rateLimited)",
            "429 share": String(format: "%.2f%%", Double(counters.rateLimited) / Double(max(calls, 1)) * 100),
            "overall rate/s": f(Double(items) / seconds),
            "steady rate/s": f(steadyRate) + (fakeRPM > 0 ? String(format: " (%.1f%% of limit)", steadyRate / (fakeRPM / 60) * 100) : ""),
            "after first minute rate/s": f(afterMinuteRate)
                + (fakeRPM > 0 && afterMinute ? String(format: " (%.1f%% of limit)", afterMinuteRate / (fakeRPM / 60) * 100) : ""),
            "429s after first minute": "\(counters.rateLimitedAfter(seconds: 60))",
            "CPU ms/call": String(format: "%.3f", cpu * 1000 / Double(max(calls, 1))),
        ]
        report("limits", figures)
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
