import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import SluiceComposer
import SluiceCore
import SluiceEngine
import SluiceProviders
import SluiceStore

/// `sluice run`: the whole job in this process — ingest, model calls, results — with live
/// progress. Running the same command again with the same database resumes the job.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a whole job in this process and write its results.",
        discussion: """
            Exit status: 0 completed, 3 completed with errors, 1 failed (including malformed input), \
            2 cancelled, 64 usage error. Interrupted (Ctrl-C), it finishes or releases the calls in flight \
            and exits 0; paused (the provider refused the key), it exits 1. Either way, run the same \
            command again to resume.
            """ + "\n\n" + ProcessTracing.help)

    @OptionGroup var jobOptions: JobOptions

    @Option(
        name: .shortAndLong,
        help:
            "Write results here: .csv or .jsonl (default: JSONL on standard output); for a job with a reduce step, .json takes its one result."
    )
    var output: String?

    @Flag(
        name: .customLong("raw-cells"),
        help:
            "In .csv and .xlsx results, write text that starts with = + - @ as it is (by default it gets a leading ' so spreadsheets do not run it as a formula)."
    )
    var rawCells = false

    /// The database that keeps the job; the same database and command resume it.
    @OptionGroup var databaseOption: DatabaseOption

    @Option(help: "Model calls in flight at once in this process.")
    var concurrency = EngineConfiguration.defaultConcurrency

    @OptionGroup var providerOptions: ProviderOptions

    @Flag(
        help: """
            Estimate instead of running: read the whole input (nothing stored), make a few sample calls, and print the rows, \
            calls, tokens, cost per tier and time.
            """)
    var estimate = false

    func validate() throws {
        guard concurrency > 0 else { throw ValidationError("--concurrency must be at least 1") }
        if let output, ResultFormat(fileName: output) == nil, !output.lowercased().hasSuffix(".json") {
            throw ValidationError("--output must end in .csv, .jsonl, .xlsx or .json (the combined result of a job with a reduce step)")
        }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let configuration = try providerOptions.configuration()
        let request = try JobRequest(options: jobOptions, configuration: configuration)
        if estimate {
            return try await estimate(request, configuration: try providerOptions.configuration(applyingLimitsTo: request.spec.provider))
        }
        try await databaseOption.withStore(logger: Logger(label: "sluice")) { store in
            try await run(request, store: store)
        }
    }

    func run(_ request: JobRequest, store: SQLJobStore) async throws {
        // Before the job is made, so that it starts a trace its spans join.
        let tracing = try ProcessTracing.start()
        let job = try await prepareJob(request, store: store)
        var final = job
        if !job.status.isFinal {
            // Limits apply to the provider the stored job uses (a resumed job keeps its own).
            let limited = try providerOptions.configuration(applyingLimitsTo: job.spec.provider)
            final = try await runEngine(jobID: job.id, store: store, configuration: limited, tracing: tracing)
        }
        if final.status == .paused {
            note("paused: \(final.statusReason ?? "no reason given"); fix it and run the same command again to resume")
            throw ExitCode(1)
        }
        guard final.status.isFinal else {
            note("interrupted: \(final.counts.finished) of \(final.counts.total) items done; run the same command again to resume")
            return
        }
        if final.spec.reduce != nil, output.map({ ResultFormat(fileName: $0) == nil }) ?? true {
            try await writeCombinedResult(of: final, store: store)
        } else if final.status != .failed || final.counts.total > 0 {
            try await writeResults(jobID: final.id, store: store)
        }
        report(final)
        throw ExitCode(Self.exitCode(for: final.status))
    }

    /// `--estimate`: what the job would cost and take, printed; exits 2 when its input has a problem.
    func estimate(_ request: JobRequest, configuration: SluiceConfiguration) async throws {
        let http = ProviderHTTPClient()
        let entry = try ProviderCatalog.registry(for: configuration, http: http)[request.spec.provider]
        let result: JobEstimate
        do {
            result = try await JobEstimate.make(
                spec: request.spec, sources: request.sources.map { ($0.path, $0) }, provider: entry?.provider,
                limits: entry?.limits ?? RateLimits(), prices: configuration.prices, concurrency: concurrency, owner: "local")
            try await http.shutdown()
        } catch {
            try? await http.shutdown()
            throw error
        }
        if let problem = result.problem {
            note("the job would fail: \(problem.description)")
            throw ExitCode(2)
        }
        print((result.summary + result.basis.map { "  " + $0 }).joined(separator: "\n"))
    }

    /// Finds the job a previous identical command started, or creates and ingests a new one.
    func prepareJob(_ request: JobRequest, store: SQLJobStore) async throws -> Job {
        let fingerprint = request.fingerprint()
        let now = Date()
        var job: Job
        if let existing = try await store.job(fingerprint: fingerprint) {
            job = existing
            note("resuming \(job.id) (\(job.status.rawValue), \(job.counts.finished) of \(job.counts.total) items done)")
            if job.status.isFinal { return job }
            let released = try await store.releaseAllLeases(jobID: job.id, now: now)
            if released > 0 { note("returned \(released) items the previous run left in flight to the queue") }
            if job.status == .paused {
                job = try await store.resume(jobID: job.id, budget: jobOptions.specOptions.budget, maxReplyTokens: nil, now: now)
            }
        } else {
            job = try await store.createJob(
                NewJob(
                    owner: "local", name: request.defaultName, spec: request.spec, sources: request.sources, fingerprint: fingerprint,
                    traceContext: TraceContext.forNewJob()),
                now: now)
            note("job \(job.id): \(request.sources.count) file(s), provider \(request.spec.provider), model \(request.spec.model)")
        }
        if job.spec.provider == ProviderSettings.builtinName {
            note("using the built-in offline provider: answers are computed on this machine, not by a language model")
        }
        guard job.status == .validating else { return job }
        let started = Date()
        job = try await JobIngestor(store: store, owner: EngineConfiguration.defaultWorkerID()).takeAndIngest(jobID: job.id)
        if job.status == .failed {
            note("the input is invalid; no item was sent to a model:")
            for error in job.errors { note("  " + error.description) }
        } else {
            note(String(format: "read %d items in %.2fs", job.counts.total, Date().timeIntervalSince(started)))
        }
        return job
    }

    /// Runs the job's calls (the ``ProcessRole/run`` role) with the progress monitor, which ends
    /// the process when the job does.
    func runEngine(
        jobID: String, store: SQLJobStore, configuration: SluiceConfiguration, tracing: ServiceGroupConfiguration.ServiceConfiguration?
    ) async throws -> Job {
        guard let before = try await store.job(id: jobID) else { throw StoreError.jobNotFound(jobID) }
        let composer = Composer(
            role: .run, store: store, configuration: configuration, storage: nil,
            engine: EngineConfiguration(concurrency: concurrency, sharedPace: databaseOption.sharesLimits ? store.pace : nil),
            logger: Logger(label: "sluice"))
        let monitor = RunMonitor(
            store: store, jobID: jobID, startedAt: Date(), finishedAtStart: before.counts.finished, isTerminal: isatty(STDERR_FILENO) == 1)
        try await composer.run(
            alongside: [.init(service: monitor, successTerminationBehavior: .gracefullyShutdownGroup)]
                + (tracing.map { [$0] } ?? []))
        if isatty(STDERR_FILENO) == 1 { FileHandle.standardError.write(Data("\n".utf8)) }
        guard let after = try await store.job(id: jobID) else { throw StoreError.jobNotFound(jobID) }
        return after
    }

    /// Writes results to `--output`, or JSONL to standard output.
    func writeResults(jobID: String, store: SQLJobStore) async throws {
        let exporter = ResultExporter(store: store)
        guard let output else {
            try await exporter.export(jobID: jobID, format: .jsonl) { chunk in FileHandle.standardOutput.write(Data(chunk.utf8)) }
            return
        }
        let format = ResultFormat(fileName: output)!
        try await Self.writeAtomically(to: output) { partial in
            if format == .xlsx { return try await exporter.exportWorkbook(jobID: jobID, to: URL(fileURLWithPath: partial), raw: rawCells) }
            guard FileManager.default.createFile(atPath: partial, contents: nil), let handle = FileHandle(forWritingAtPath: partial) else {
                throw ValidationError("cannot write \(output)")
            }
            defer { try? handle.close() }
            try await exporter.export(jobID: jobID, format: format, raw: rawCells) { chunk in try handle.write(contentsOf: Data(chunk.utf8))
            }
        }
        note("results: \(output)")
    }

    /// The one result of a map-then-reduce job, to `--output` (`.json`) or standard output.
    func writeCombinedResult(of job: Job, store: SQLJobStore) async throws {
        guard let result = try await store.result(jobID: job.id) else {
            note("no combined result: nothing was left to combine (see the errors below)")
            return
        }
        let text = Data((JSONWriter.string(result) + "\n").utf8)
        guard let output else {
            FileHandle.standardOutput.write(text)
            return
        }
        try await Self.writeAtomically(to: output) { partial in
            guard FileManager.default.createFile(atPath: partial, contents: text) else { throw ValidationError("cannot write \(output)") }
        }
        note("result: \(output)")
    }

    /// Writes `path` through a temporary file renamed into place at the end, so an interrupted
    /// export never leaves a half-written file behind.
    static func writeAtomically(to path: String, _ write: (String) async throws -> Void) async throws {
        let partial = path + ".partial"
        try? FileManager.default.removeItem(atPath: partial)
        do {
            try await write(partial)
            _ = try? FileManager.default.removeItem(atPath: path)
            try FileManager.default.moveItem(atPath: partial, toPath: path)
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
    }

    func report(_ job: Job) {
        let counts = job.counts
        var line = "\(job.status.rawValue): \(counts.succeeded) succeeded, \(counts.failed) failed"
        if counts.cancelled > 0 { line += ", \(counts.cancelled) cancelled" }
        line += " of \(counts.total)"
        if let started = job.startedAt, let finished = job.finishedAt, counts.finished > 0 {
            let seconds = max(finished.timeIntervalSince(started), 0.001)
            line += String(format: " in %.2fs (%.0f items/s)", seconds, Double(counts.finished) / seconds)
        }
        if job.usage.promptTokens + job.usage.completionTokens > 0 {
            line += "; tokens: \(job.usage.promptTokens) prompt, \(job.usage.completionTokens) completion"
            if job.usage.cachedTokens > 0 { line += ", \(job.usage.cachedTokens) of the prompt's read from the provider's cache" }
            if job.usage.reasoningTokens > 0 { line += ", \(job.usage.reasoningTokens) of the completion's spent reasoning" }
        }
        note(line)
        note(Self.spending(job))
        if job.status != .failed || job.counts.total > 0 {
            for error in job.errors.prefix(10) { note("  " + error.description) }
        }
    }

    /// Calls against rows, cache hits and cost: what packing and the cache saved.
    static func spending(_ job: Job) -> String {
        let called = job.counts.succeeded - job.cached + job.counts.failed
        var line = "calls: \(job.calls) for \(called) rows"
        if job.calls > 0 { line += String(format: " (%.1f rows per call)", Double(called) / Double(job.calls)) }
        line += "; \(job.cached) answered from the cache"
        if job.costMicros > 0 { line += String(format: "; cost $%.4f", Double(job.costMicros) / 1_000_000) }
        if job.listCostMicros > job.costMicros {
            line += String(format: ", $%.4f saved against the list price", Double(job.listCostMicros - job.costMicros) / 1_000_000)
        }
        if job.flexCalls + job.batchCalls > 0 || job.spec.tier != .standard {
            line += "; tier \(job.spec.tier.rawValue): \(job.calls - job.flexCalls - job.batchCalls) standard"
            line += ", \(job.flexCalls) flex, \(job.batchCalls) batch calls"
        }
        return line
    }

    static func exitCode(for status: JobStatus) -> Int32 {
        switch status {
        case .completed: 0
        case .completedWithErrors: 3
        case .cancelled: 2
        default: 1
        }
    }

    func note(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
