import ArgumentParser
import Foundation
import SluiceCore
import AsyncHTTPClient
import NIOCore
import NIOFoundationEssentialsCompat
import NIOHTTP1

/// Where the server is and who is asking: `--server` (or `SLUICE_SERVER`, else the local
/// default) and `--key` (or `SLUICE_API_KEY`), shared by every command that drives a server.
struct ServerOptions: ParsableArguments {
    static let defaultServer = "http://127.0.0.1:8080"

    @Option(help: "The server's URL (default: SLUICE_SERVER, else \(defaultServer)).")
    var server: String?

    @Option(help: "An API key (default: SLUICE_API_KEY); a server with auth off needs none.")
    var key: String?

    @Flag(help: "Print the job object as one JSON line, for scripts.")
    var json = false

    var resolvedServer: String {
        let given = server ?? ProcessInfo.processInfo.environment["SLUICE_SERVER"] ?? Self.defaultServer
        return given.hasSuffix("/") ? String(given.dropLast()) : given
    }

    var resolvedKey: String? {
        let given = key ?? ProcessInfo.processInfo.environment["SLUICE_API_KEY"]
        return given?.isEmpty == false ? given : nil
    }

    func validate() throws {
        guard let url = URL(string: resolvedServer), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw ValidationError("--server must be an http:// or https:// URL, such as \(Self.defaultServer)")
        }
    }

    /// Prints a job: its JSON on one line with `--json`, else a line a person reads.
    func show(_ job: RemoteJob) {
        if json {
            print(JSONWriter.string(job.json))
        } else {
            let report = ProgressReport(counts: job.counts, status: job.status, finishedThisRun: 0, elapsed: 0, message: job.message)
            var line = "\(job.id)  \(job.status.rawValue)  \(report.bar()) \(report.summary)"
            if let reason = job.statusReason { line += "  (\(reason))" }
            print(line)
        }
    }
}

/// Runs a client command: a server's refusal or an unreachable server is a message and exit 1.
func runClient(_ options: ServerOptions, _ body: (SluiceClient) async throws -> Int32) async throws {
    let code: Int32
    do {
        code = try await SluiceClient.with(options, body)
    } catch let error as ClientError {
        FileHandle.standardError.write(Data("sluice: \(error)\n".utf8))
        throw ExitCode(1)
    }
    if code != 0 { throw ExitCode(code) }
}

/// Follows a job until it ends, drawing progress on standard error; returns its exit status
/// (as `sluice run`'s: 0 completed, 3 with errors, 2 cancelled, 1 failed or paused).
func follow(_ job: RemoteJob, client: SluiceClient, options: ServerOptions) async throws -> Int32 {
    let isTerminal = isatty(STDERR_FILENO) != 0
    let started = Date()
    let finishedAtStart = job.counts.finished
    var lastPrinted = Date.distantPast
    // Paused with nothing in flight, a job waits for someone: as `sluice run`, stop there.
    let stop = { (job: RemoteJob) in job.status.isFinal || (job.status == .paused && job.counts.running == 0) }
    let draw = { (job: RemoteJob) in
        let now = Date()
        guard isTerminal || stop(job) || now.timeIntervalSince(lastPrinted) >= 2 else { return }
        lastPrinted = now
        let report = ProgressReport(
            counts: job.counts, status: job.status, finishedThisRun: job.counts.finished - finishedAtStart,
            elapsed: now.timeIntervalSince(started), message: job.message)
        let line = isTerminal ? "\r\u{1B}[2K" + report.bar() + " " + report.summary : report.summary + "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
    draw(job)
    let final = stop(job) ? job : try await client.watch(job.id, until: stop, progress: draw)
    if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    options.show(final)
    if final.status == .paused {
        FileHandle.standardError.write(
            Data("paused: \(final.statusReason ?? "no reason given"); `sluice resume \(final.id)` goes on\n".utf8))
        return 1
    }
    return RunCommand.exitCode(for: final.status)
}

struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit", abstract: "Upload files as a job to a running server.",
        discussion: """
            Prints the new job (its id first). With --wait, follows it to the end and exits as `sluice run` does: \
            0 completed, 3 completed with errors, 2 cancelled, 1 failed or paused; 1 also when the server refuses.
            """)

    @OptionGroup var jobOptions: JobOptions

    @Flag(help: "Follow the job until it ends, and exit with its status.")
    var wait = false

    @OptionGroup var serverOptions: ServerOptions

    func run() async throws {
        // The server resolves and checks the spec: its presets and providers are the ones that count.
        let spec = try jobOptions.specJSON()
        try await runClient(serverOptions) { client in
            let job = try await client.submit(files: jobOptions.files, spec: spec)
            guard wait else {
                serverOptions.show(job)
                return 0
            }
            FileHandle.standardError.write(Data("submitted \(job.id)\n".utf8))
            return try await follow(job, client: client, options: serverOptions)
        }
    }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show a job on a running server.")

    @Argument(help: "The job's id.") var job: String
    @OptionGroup var serverOptions: ServerOptions

    func run() async throws {
        try await runClient(serverOptions) { client in
            serverOptions.show(try await client.job(job))
            return 0
        }
    }
}

struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch", abstract: "Follow a job's progress live until it ends.",
        discussion: "Exits as `sluice run` does: 0 completed, 3 completed with errors, 2 cancelled, 1 failed or paused.")

    @Argument(help: "The job's id.") var job: String
    @OptionGroup var serverOptions: ServerOptions

    func run() async throws {
        try await runClient(serverOptions) { client in try await follow(try await client.job(job), client: client, options: serverOptions) }
    }
}

struct ResultsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "results", abstract: "Download a job's results (so far) from a running server.")

    @Argument(help: "The job's id.") var job: String

    @Option(
        name: .shortAndLong,
        help:
            "Write here: .csv, .jsonl or .xlsx; .json takes the one combined result of a job with a reduce step (default: JSONL on standard output)."
    )
    var output: String?

    @OptionGroup var serverOptions: ServerOptions

    func validate() throws {
        if let output, ResultFormat(fileName: output) == nil, !output.lowercased().hasSuffix(".json") {
            throw ValidationError("--output must end in .csv, .jsonl, .xlsx or .json")
        }
    }

    func run() async throws {
        let path = "/v1/jobs/\(SluiceClient.escape(job))"
        let resource =
            if let output, let format = ResultFormat(fileName: output) {
                "\(path)/results?format=\(format.rawValue)"
            } else if output != nil {
                "\(path)/result"
            } else {
                "\(path)/results?format=jsonl"
            }
        try await runClient(serverOptions) { client in
            let response = try await client.send(client.request(.GET, resource), timeout: .hours(1))
            // Written beside the target and moved into place whole: a broken download leaves no half file.
            let temporary = output.map { $0 + ".part" }
            let handle: FileHandle
            if let temporary {
                guard FileManager.default.createFile(atPath: temporary, contents: nil), let opened = FileHandle(forWritingAtPath: temporary)
                else { throw ClientError(message: "cannot write \(temporary)") }
                handle = opened
            } else {
                handle = FileHandle.standardOutput
            }
            do {
                for try await chunk in response.body { try handle.write(contentsOf: Data(buffer: chunk)) }
            } catch {
                if let temporary { try? FileManager.default.removeItem(atPath: temporary) }
                throw ClientError(message: "the download broke off: \(error)")
            }
            if let temporary, let output {
                try handle.close()
                _ = try? FileManager.default.removeItem(atPath: output)
                try FileManager.default.moveItem(atPath: temporary, toPath: output)
                FileHandle.standardError.write(Data("wrote \(output)\n".utf8))
            }
            return 0
        }
    }
}

/// `sluice cancel|pause|resume|retry JOB`: one command per verb, the same shape for each.
struct ControlCommand<Verb: ControlVerb>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: Verb.name, abstract: Verb.abstract)
    }

    @Argument(help: "The job's id.") var job: String
    @OptionGroup var serverOptions: ServerOptions

    func run() async throws {
        try await runClient(serverOptions) { client in
            serverOptions.show(try await client.control(job, Verb.name))
            return 0
        }
    }
}

/// A control verb: its type's name in lower case is the command's and the API's
/// (`POST /v1/jobs/{id}/cancel`).
protocol ControlVerb: Sendable {
    static var abstract: String { get }
}

extension ControlVerb {
    static var name: String { String(describing: Self.self).lowercased() }
}

enum Cancel: ControlVerb { static let abstract = "Cancel a job: nothing new starts, calls in flight finish." }
enum Pause: ControlVerb { static let abstract = "Pause a job: nothing new starts until it is resumed." }
enum Resume: ControlVerb { static let abstract = "Resume a paused job." }
enum Retry: ControlVerb { static let abstract = "Run a finished job's failed items again." }

struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "jobs", abstract: "List your jobs on a running server, newest first.")

    @Option(help: "Only jobs with this status.") var status: String?
    @Option(help: "How many jobs (1–1000).") var limit = 20
    @OptionGroup var serverOptions: ServerOptions

    func validate() throws {
        guard (1...1000).contains(limit) else { throw ValidationError("--limit must be from 1 to 1000") }
        if let status, JobStatus(rawValue: status) == nil {
            throw ValidationError("--status must be one of \(JobStatus.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() async throws {
        var query = "/v1/jobs?limit=\(limit)"
        if let status { query += "&status=\(status)" }
        try await runClient(serverOptions) { client in
            let page = try await client.json(client.request(.GET, query))
            guard case .array(let jobs)? = page["data"] else { throw ClientError(message: "the server's answer is not a list of jobs") }
            for job in jobs { serverOptions.show(try RemoteJob(job)) }
            if jobs.isEmpty, !serverOptions.json { FileHandle.standardError.write(Data("no jobs\n".utf8)) }
            return 0
        }
    }
}
