import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationEssentialsCompat
import NIOHTTP1
import SluiceCore

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
