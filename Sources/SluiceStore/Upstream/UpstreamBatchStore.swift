public import Foundation
public import SluiceCore

/// Where the batch tier's upstream batches are kept: which items each holds, and who looks
/// at it next. Every step is one statement or transaction, so a worker that dies between two
/// leaves nothing another cannot pick up.
public protocol UpstreamBatchStore: Sendable {
    /// Leases up to `maxItems` pending items of one job whose items go to a batch API through
    /// one of `providers` to a new upstream batch `batchID` (status `submitting`, held by
    /// `worker` for `leaseSeconds`), in one transaction: the job's budget has its say as for
    /// live claims. The items' leases last `itemLeaseSeconds`: the batch, not a heartbeat,
    /// answers for them.
    func claimForUpstream(
        batchID: String, providers: [String], worker: String, maxItems: Int, leaseSeconds: Double,
        itemLeaseSeconds: Double, now: Date
    ) async throws -> ClaimedBatch?

    /// The provider has the batch: its id there, the calls it holds, its estimated tokens, and
    /// when to look at it first. The worker's hold ends.
    func markSubmitted(batchID: String, upstreamID: String, units: [String: [Int64]], tokens: Int, nextPollAt: Date) async throws

    /// The next upstream batch that needs a look — due for a poll, its job cancelled or gone
    /// live, or a submission whose worker vanished — held by `worker` for `leaseSeconds`.
    func claimDueUpstreamBatch(worker: String, leaseSeconds: Double, now: Date) async throws -> UpstreamBatch?

    /// When to look at the batch next, and its status; the worker's hold ends.
    func reschedule(batchID: String, status: UpstreamBatch.Status, nextPollAt: Date) async throws

    /// The batch is done with: the items it still holds go back to pending, without spending an
    /// attempt (the provider never answered them) unless `spending` gives the reason one is
    /// spent (an item on its last attempt then fails with it), and the row goes.
    func closeUpstreamBatch(batchID: String, spending: String?, now: Date) async throws

    /// The items of these ids still held by the batch, with their job.
    func upstreamItems(batchID: String, itemIDs: [Int64]) async throws -> (job: Job, items: [Item])?

    /// The tokens of the batches a provider has in hand (for its enqueued-token limit).
    func upstreamTokens(provider: String) async throws -> Int

    /// An auto job's items go live from `now`: its pending items are for live claims, and its
    /// upstream batches are to be stopped.
    func goLive(jobID: String, now: Date) async throws

    /// Open jobs whose items go through a batch API with a moment to go live (the auto tier):
    /// their ids, pending and running counts, rows per call and the deadline.
    func autoJobs(now: Date) async throws -> [AutoJob]
}

extension UpstreamBatchStore {
    /// ``closeUpstreamBatch(batchID:spending:now:)`` with nothing spent.
    public func closeUpstreamBatch(batchID: String, now: Date) async throws {
        try await closeUpstreamBatch(batchID: batchID, spending: nil, now: now)
    }
}

/// An auto-tier job still sending its items to a batch API.
public struct AutoJob: Sendable, Equatable {
    public var id: String
    public var provider: String
    public var unfinished: Int
    public var itemsPerRequest: Int
    public var deadline: Date

    public init(id: String, provider: String, unfinished: Int, itemsPerRequest: Int, deadline: Date) {
        self.id = id
        self.provider = provider
        self.unfinished = unfinished
        self.itemsPerRequest = itemsPerRequest
        self.deadline = deadline
    }
}
