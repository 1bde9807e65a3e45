import Foundation
import ServiceLifecycle
import SluiceCore
import SluiceStore

/// Shows a one-shot run's progress until its job reaches a final status — or is paused with
/// nothing in flight (a refused key, say), which a one-shot run cannot get past on its own —
/// then returns so the service group shuts down and the command can report.
///
/// On a terminal it redraws one bar a few times a second; otherwise it prints a plain line
/// every few seconds, which is what logs and CI want.
struct RunMonitor: Service {
    let store: any JobStore
    let jobID: String
    let startedAt: Date
    let finishedAtStart: Int
    let isTerminal: Bool

    func run() async throws {
        let interval = isTerminal ? 0.2 : 2.0
        var lastPrinted = Date.distantPast
        while !Task.isShuttingDownGracefully {
            guard let job = try await store.job(id: jobID) else { return }
            let now = Date()
            if isTerminal || job.status.isFinal || now.timeIntervalSince(lastPrinted) >= interval {
                print(report(job, now: now))
                lastPrinted = now
            }
            if job.status.isFinal || (job.status == .paused && job.counts.running == 0) { return }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(isTerminal ? 0.2 : 0.5)) }
        }
    }

    func report(_ job: Job, now: Date) -> ProgressReport {
        ProgressReport(
            counts: job.counts, status: job.status, finishedThisRun: job.counts.finished - finishedAtStart,
            elapsed: now.timeIntervalSince(startedAt), message: job.progressMessage)
    }

    func print(_ report: ProgressReport) {
        let line = isTerminal ? "\r\u{1B}[2K" + report.bar() + " " + report.summary : report.summary + "\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
}
