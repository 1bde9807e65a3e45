import Foundation
import SluiceTestSupport

/// A `sluice worker` child process on a shared database, writing its output to a file in
/// `directory`; the provider key variable `FAKE_KEY` is set for the fakes.
final class WorkerProcess {
    let process = Process()
    let log: String

    init(number: Int, database: String, config: String, in directory: TemporaryDirectory, concurrency: Int) throws {
        process.executableURL = SluiceProcess.binary
        process.arguments = [
            "worker", "--database", database, "--config", config, "--concurrency", "\(concurrency)", "--log-level", "warning",
        ]
        process.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "FAKE_KEY": "sk-fake"]
        process.currentDirectoryURL = directory.url
        log = directory.path("worker-\(number)-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardError = process.standardOutput
        try process.start()
    }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Until the worker says it is running: from then on it traps SIGTERM (a worker stopped
    /// while still starting meets the signal's default action instead).
    func running() async throws {
        try await waitUntil("worker \(process.processIdentifier) to say it is running") {
            !process.isRunning || (try? String(contentsOfFile: log, encoding: .utf8))?.contains("sluice worker running") == true
        }
    }

    /// Stops the worker with SIGTERM once it is running, and waits for it to exit.
    func stop() async throws {
        try await running()
        signal(SIGTERM)
        try await process.exited()
    }

    /// A worker left running by a failed test would outlive the suite.
    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}
