import Foundation
import SluiceCore
import SluiceStore

/// Waits for a job to meet a condition by re-reading it, failing after `limit` seconds.
///
/// This is condition polling, not a sleep standing in for synchronisation: it returns the
/// moment the condition holds, and the limit only turns a hang into a clear failure.
public func waitForJob(
    _ store: any JobStore, _ jobID: String, limit: Double = 30, until condition: (Job) -> Bool
) async throws -> Job {
    let deadline = Date().addingTimeInterval(limit)
    while true {
        if let job = try await store.job(id: jobID), condition(job) { return job }
        if Date() > deadline { throw WaitTimeout(jobID: jobID) }
        try await Task.sleep(for: .milliseconds(5))
    }
}

public struct WaitTimeout: Error, CustomStringConvertible {
    public var jobID: String

    public init(jobID: String) {
        self.jobID = jobID
    }

    public var description: String { "job \(jobID) did not reach the expected state in time" }
}
