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
    public var what: String

    public init(jobID: String) {
        what = "job \(jobID) to reach the expected state"
    }

    public init(what: String) {
        self.what = what
    }

    public var description: String { "waited in vain for \(what)" }
}

/// The value of one series (`name{labels}` exactly as Prometheus prints it) in a scrape, or nil.
public func metricValue(_ scrape: String, _ series: String) -> Double? {
    scrape.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.dropFirst(series.count + 1)) }
}

/// Polls `condition` until it holds; the limit only turns a hang into a failure.
public func waitUntil(_ what: String, seconds: Double = 30, _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while try await !condition() {
        if Date() > deadline { throw WaitTimeout(what: what) }
        try await Task.sleep(for: .milliseconds(10))
    }
}
