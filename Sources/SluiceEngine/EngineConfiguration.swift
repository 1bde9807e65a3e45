import Foundation
import SluiceCore

/// How a worker process runs: its identity, how much it does at once, and its timings.
public struct EngineConfiguration: Sendable {
    /// Names this worker in leases; unique per process (host and pid by default).
    public var workerID: String
    /// Model calls in flight at once in this process.
    public var concurrency: Int
    /// How long a claim is held without a heartbeat before other workers may take it back.
    public var leaseDuration: Double
    /// How often held leases are extended; well inside ``leaseDuration``.
    public var heartbeatInterval: Double
    /// How often expired leases are returned to pending.
    public var reaperInterval: Double
    /// How long an idle worker waits before claiming again.
    public var idleInterval: Double
    /// How stale a job's status may be when deciding to start a call; bounds how long a
    /// cancel or pause from another process takes to stop new calls.
    public var statusRefreshInterval: Double
    /// Back-off for retryable failures.
    public var backoff: RetryBackoff

    public init(
        workerID: String = EngineConfiguration.defaultWorkerID(), concurrency: Int = 16, leaseDuration: Double = 60,
        heartbeatInterval: Double = 15, reaperInterval: Double = 5, idleInterval: Double = 0.05,
        statusRefreshInterval: Double = 0.25, backoff: RetryBackoff = RetryBackoff()
    ) {
        self.workerID = workerID
        self.concurrency = max(1, concurrency)
        self.leaseDuration = leaseDuration
        self.heartbeatInterval = heartbeatInterval
        self.reaperInterval = reaperInterval
        self.idleInterval = idleInterval
        self.statusRefreshInterval = statusRefreshInterval
        self.backoff = backoff
    }

    public static func defaultWorkerID() -> String {
        let host = ProcessInfo.processInfo.hostName
        return "\(host):\(ProcessInfo.processInfo.processIdentifier):\(UInt32.random(in: 0...UInt32.max))"
    }
}
