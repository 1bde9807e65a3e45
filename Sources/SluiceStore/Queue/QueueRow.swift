public import SluiceCore

/// One user's open jobs of one priority, as the team view shows the queues.
public struct QueueRow: Sendable, Equatable {
    public var owner: String
    public var priority: JobPriority
    public var jobs: Int
    public var pending: Int
    public var running: Int
    public var paused: Int

    public init(owner: String, priority: JobPriority, jobs: Int, pending: Int, running: Int, paused: Int) {
        self.owner = owner
        self.priority = priority
        self.jobs = jobs
        self.pending = pending
        self.running = running
        self.paused = paused
    }
}
