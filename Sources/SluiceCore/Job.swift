public import Foundation

/// One upload plus its spec: the unit a user submits, watches, cancels and downloads.
public struct Job: Sendable, Equatable {
    public var id: String
    /// The user the job belongs to; `local` when auth is off.
    public var owner: String
    public var name: String
    public var status: JobStatus
    /// Why the job is paused or failed, in words for the user.
    public var statusReason: String?
    public var spec: JobSpec
    public var sources: [JobSource]
    /// Identifies a one-shot run's inputs so that running it again resumes this job.
    public var fingerprint: String?
    /// Set when the job was created through the OpenAI Batch API.
    public var batch: BatchAttributes?
    /// When the job stops if it has not finished: its pending items are dropped and it ends
    /// `expired` (a batch's completion window).
    public var expiresAt: Date?
    public var counts: JobCounts
    public var usage: TokenUsage
    /// Input errors (line, column) and item errors, at most ``maximumErrors``.
    public var errors: [JobErrorEntry]
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    /// Model calls made so far: with rows packed, far fewer than the rows.
    public var calls: Int
    /// Items answered from the result cache, without a call (a part of `succeeded`).
    public var cached: Int
    /// What the calls cost so far, in millionths of a dollar, from the configured prices.
    public var costMicros: Int64
    /// What the same calls would have cost at the list price (standard tier, no prompt cache).
    public var listCostMicros: Int64 = 0
    /// Calls served at the flex tier and through a batch API; the others were standard.
    public var flexCalls = 0
    public var batchCalls = 0
    /// What the job is doing, for jobs with steps (documents: extracting, mapping, reducing).
    public var stage: JobStage?
    /// A line for the user next to the progress ("Generating content for module 3…").
    public var stageMessage: String?
    /// The trace context of the request that created the job (W3C `traceparent` and
    /// `tracestate`, as the process's tracer propagates it; empty without one): its calls are
    /// spans of that trace, whichever process makes them.
    public var traceContext: [String: String] = [:]

    /// Share of the job done, 0–1: its items' progress, and a job that ended with no items is done.
    public var progress: Double { counts.total == 0 ? (status.isFinal ? 1 : 0) : counts.progress }

    /// The line shown next to the job's progress: its step's own, or while mapping, which part
    /// is being worked on.
    public var progressMessage: String? {
        guard stage == .mapping, !status.isFinal else { return stageMessage }
        return "Working on part \(min(counts.finished + 1, counts.total)) of \(counts.total)…"
    }

    /// A job keeps the first errors only: enough to fix a file, never unbounded.
    public static let maximumErrors = 50

    public init(
        id: String, owner: String, name: String, status: JobStatus, statusReason: String? = nil, spec: JobSpec,
        sources: [JobSource], fingerprint: String? = nil, batch: BatchAttributes? = nil, expiresAt: Date? = nil,
        counts: JobCounts = JobCounts(),
        usage: TokenUsage = TokenUsage(),
        errors: [JobErrorEntry] = [], createdAt: Date, startedAt: Date? = nil, finishedAt: Date? = nil, calls: Int = 0,
        cached: Int = 0, costMicros: Int64 = 0, stage: JobStage? = nil, stageMessage: String? = nil, listCostMicros: Int64 = 0,
        flexCalls: Int = 0, batchCalls: Int = 0
    ) {
        self.listCostMicros = listCostMicros
        self.flexCalls = flexCalls
        self.batchCalls = batchCalls
        self.id = id
        self.owner = owner
        self.name = name
        self.status = status
        self.statusReason = statusReason
        self.spec = spec
        self.sources = sources
        self.fingerprint = fingerprint
        self.batch = batch
        self.expiresAt = expiresAt
        self.counts = counts
        self.usage = usage
        self.errors = errors
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.calls = calls
        self.cached = cached
        self.costMicros = costMicros
        self.stage = stage
        self.stageMessage = stageMessage
    }

    /// A new, unguessable id such as `job_3f9c…` (128 random bits; batches and files use
    /// their own prefixes).
    public static func makeID(prefix: String = "job_") -> String {
        prefix + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }
}
