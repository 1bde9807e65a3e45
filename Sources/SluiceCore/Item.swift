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
    /// Why its last reply ended, as the provider said it (`stop`, `length`, `end_turn`…).
    public var finishReason: String?
    /// The reply-token limit its next call asks for, raised after a reply cut empty at the
    /// last one (see ``ReplyBudget``); `nil` for the spec's own.
    public var replyTokens: Int?

    public init(
        id: Int64, jobID: String, index: Int, groupKey: String?, status: ItemStatus, input: JSONObject,
        output: JSONValue? = nil, error: String? = nil, attempts: Int = 0, leaseOwner: String? = nil,
        leaseExpiresAt: Date? = nil, usage: TokenUsage = TokenUsage(), model: String? = nil, startedAt: Date? = nil,
        finishedAt: Date? = nil, packSize: Int? = nil, cached: Bool = false, round: Int = 0, finishReason: String? = nil,
        replyTokens: Int? = nil
    ) {
        self.replyTokens = replyTokens
        self.finishReason = finishReason
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
