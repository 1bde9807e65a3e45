public import Foundation

/// One unit of model work — a CSV row, a conversation, a JSONL request, a document.
public struct Item: Sendable, Equatable {
    /// The store's key for the item; unique across jobs.
    public var id: Int64
    public var jobID: String
    /// Position in the input, from 0; results come out in this order.
    public var index: Int
    /// The `group_by` value; items sharing it run strictly in index order.
    public var groupKey: String?
    public var status: ItemStatus
    /// The input fields in their original order.
    public var input: JSONObject
    /// The validated output; present only when `succeeded`.
    public var output: JSONValue?
    public var error: String?
    /// Model calls started for this item, counting the one in flight.
    public var attempts: Int
    public var leaseOwner: String?
    public var leaseExpiresAt: Date?
    public var usage: TokenUsage
    /// Which provider/model produced the output (for the built-in one, marked offline).
    public var model: String?
    public var startedAt: Date?
    public var finishedAt: Date?
    /// The most rows this item may share its next call with; `nil` for the job's
    /// `items_per_request`. Halved each time a packed reply fails to answer it (see
    /// ``PackedReply``), so a row a model keeps fumbling ends up in a call of its own.
    public var packSize: Int?
    /// Whether the output is an earlier identical request's, reused without a call.
    public var cached: Bool
    /// 0 for the job's own items (the map); 1, 2… for the calls of each reduce round, whose
    /// input is `{"parts": [earlier outputs], "round": n}` (see ``ReduceStep``).
    public var round: Int

    public init(
        id: Int64, jobID: String, index: Int, groupKey: String?, status: ItemStatus, input: JSONObject,
        output: JSONValue? = nil, error: String? = nil, attempts: Int = 0, leaseOwner: String? = nil,
        leaseExpiresAt: Date? = nil, usage: TokenUsage = TokenUsage(), model: String? = nil, startedAt: Date? = nil,
        finishedAt: Date? = nil, packSize: Int? = nil, cached: Bool = false, round: Int = 0
    ) {
        self.id = id
        self.jobID = jobID
        self.index = index
        self.groupKey = groupKey
        self.status = status
        self.input = input
        self.output = output
        self.error = error
        self.attempts = attempts
        self.leaseOwner = leaseOwner
        self.leaseExpiresAt = leaseExpiresAt
        self.usage = usage
        self.model = model
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.packSize = packSize
        self.cached = cached
        self.round = round
    }
}

/// An item as the ingestor hands it to the store.
public struct NewItem: Sendable, Equatable {
    public var index: Int
    public var groupKey: String?
    public var input: JSONObject
    /// Set for an item that failed before any call — a document that gave no text — with
    /// the reason; it is stored `failed` and counted so.
    public var failure: String?

    public init(index: Int, groupKey: String?, input: JSONObject, failure: String? = nil) {
        self.index = index
        self.groupKey = groupKey
        self.input = input
        self.failure = failure
    }
}

/// What became of one model call for one item, as the engine reports it to the store.
public struct ItemOutcome: Sendable, Equatable {
    public enum Result: Sendable, Equatable {
        /// Output that passed validation.
        case succeeded(JSONValue)
        /// A final failure with its reason.
        case failed(String)
        /// A failure worth another attempt, not before the given time.
        case retry(String, notBefore: Date)
        /// No answer through no fault of the item (the provider throttled it): back to pending
        /// without spending the attempt.
        case deferred(String, notBefore: Date)
        /// A packed reply did not answer this row rightly: back to pending without spending the
        /// attempt, to go next in a call of at most `packSize` rows (smaller than the last).
        case repack(String, packSize: Int)
    }

    public var itemID: Int64
    public var result: Result
    public var usage: TokenUsage
    public var model: String?
    public var startedAt: Date?
    /// Model calls to count for this outcome: 1 on one outcome of each call, 0 on the others
    /// of a pack and on cache hits, so a job's `calls` is the calls it really made.
    public var calls: Int
    /// What the call cost, in millionths of a dollar, from the configured prices (0 unpriced).
    public var costMicros: Int64
    /// The output came from the result cache, not a call.
    public var cached: Bool
    /// Where a validated output is kept for identical requests; `nil` when the job does not cache.
    public var cacheKey: String?
    /// The attempt (the item's `attempts` when it was claimed) this outcome is of: the store
    /// records it only while the item is still on that attempt, so a late answer to an earlier
    /// attempt — the lease ran out and the same worker claimed it again — is dropped.
    /// `nil` records it whatever the attempt.
    public var attempt: Int?

    public init(
        itemID: Int64, result: Result, usage: TokenUsage = TokenUsage(), model: String? = nil, startedAt: Date? = nil, calls: Int = 0,
        costMicros: Int64 = 0, cached: Bool = false, cacheKey: String? = nil
    ) {
        self.itemID = itemID
        self.result = result
        self.usage = usage
        self.model = model
        self.startedAt = startedAt
        self.calls = calls
        self.costMicros = costMicros
        self.cached = cached
        self.cacheKey = cacheKey
    }
}
