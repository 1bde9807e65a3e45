import Foundation
public import SluiceCore
public import SluiceStore

/// How long a wait may last before it is called a hang: minutes, not seconds, so a loaded
/// machine (two cores shared by every suite, their servers and PostgreSQL) slows a test down but
/// never fails it. No assertion depends on it; it only turns a hang into a failure with a name.
public let hangLimit: Double = 600

/// Waits for a job to meet a condition: re-reads it after each transaction `store` commits,
/// and never otherwise, so the wait is driven by the change it waits for, not by a timer.
///
/// Only commits made through this store instance wake it: a job moved by another process (a
/// `sluice` child, another store on the same database) needs ``waitUntil(_:seconds:_:)``.
public func waitForJob(
    _ store: SQLJobStore, _ jobID: String, until condition: (Job) -> Bool
) async throws -> Job {
    try await waitForChange(of: store, what: "job \(jobID) to reach the expected state") {
        guard let job = try await store.job(id: jobID), condition(job) else { return nil }
        return job
    }
}

/// Returns `read()`'s first answer that is not nil, reading again after each commit of
/// `store`; fails after ``hangLimit`` seconds without one.
public func waitForChange<T: Sendable>(
    of store: SQLJobStore, what: String, _ read: () async throws -> T?
) async throws -> T {
    try await waitFor(store.commits, what: what, read)
}

/// Waits until `condition` holds, checking it again each time `signal` fires; fails after
/// ``hangLimit`` seconds.
public func waitUntil(_ what: String, signalledBy signal: WakeSignal, _ condition: () async throws -> Bool) async throws {
    try await waitFor(signal, what: what) { try await condition() ? true : nil }
}

/// Returns `read()`'s first answer that is not nil, reading again each time `signal` fires.
public func waitFor<T: Sendable>(_ signal: WakeSignal, what: String, _ read: () async throws -> T?) async throws -> T {
    let deadline = Date().addingTimeInterval(hangLimit)
    while true {
        // Read the generation before the state, so a change landing in between is not missed.
        let generation = signal.generation
        if let value = try await read() { return value }
        guard try await waitForSignal(signal, after: generation, until: deadline) else { throw WaitTimeout(what: what) }
    }
}

/// Waits for `signal` to fire after `generation`; false if `deadline` passes first.
func waitForSignal(_ signal: WakeSignal, after generation: Int, until deadline: Date) async throws -> Bool {
    try await withThrowingTaskGroup(of: Bool.self) { group in
        group.addTask {
            await signal.wait(after: generation)
            return true
        }
        group.addTask {
            try await Task.sleep(for: .seconds(max(0, deadline.timeIntervalSinceNow)))
            return false
        }
        let fired = try await group.next() ?? false
        group.cancelAll()
        return fired
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

    public var description: String { "waited \(Int(hangLimit)) s in vain for \(what)" }
}

/// The value of one series (`name{labels}` exactly as Prometheus prints it) in a scrape, or nil.
public func metricValue(_ scrape: String, _ series: String) -> Double? {
    scrape.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.dropFirst(series.count + 1)) }
}

/// Re-checks `condition` every 10 ms until it holds, for what sends no signal this process can
/// wait on: another process's state, a metric, a peer that received a request. The limit
/// (``hangLimit``) only turns a hang into a failure.
public func waitUntil(_ what: String, _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(hangLimit)
    while try await !condition() {
        if Date() > deadline { throw WaitTimeout(what: what) }
        try await Task.sleep(for: .milliseconds(10))
    }
}
