import Foundation
import SluiceTestSupport

/// A `sluice worker` child process on a shared database, writing its output to a file in
/// `directory`; the provider key variable `FAKE_KEY` is set for the fakes.
final class WorkerProcess {
    let process: ChildProcess
    let log: String

    init(number: Int, database: String, config: String, in directory: TemporaryDirectory, concurrency: Int) throws {
        log = directory.path("worker-\(number)-\(UUID().uuidString).log")
        process = try SluiceProcess.start(
            ["worker", "--database", database, "--config", config, "--concurrency", "\(concurrency)", "--log-level", "warning"],
            in: directory.url, environment: ["FAKE_KEY": "sk-fake"], output: .file(log), errors: .output)
    }

    /// Until the worker says it is running: from then on it traps SIGTERM (a worker stopped
    /// while still starting meets the signal's default action instead).
    func running() async throws {
        try await waitUntil("worker \(process.pid) to say it is running") {
            !process.isRunning || (try? String(contentsOfFile: log, encoding: .utf8))?.contains("sluice worker running") == true
        }
    }

    /// Stops the worker with SIGTERM once it is running, and waits for it to exit.
    func stop() async throws {
        try await running()
        process.signal(SIGTERM)
        try await process.exited()
    }
}
