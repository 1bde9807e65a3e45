import Foundation

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

    public init(
        id: Int64, jobID: String, index: Int, groupKey: String?, status: ItemStatus, input: JSONObject,
        output: JSONValue? = nil, error: String? = nil, attempts: Int = 0, leaseOwner: String? = nil,
        leaseExpiresAt: Date? = nil, usage: TokenUsage = TokenUsage(), model: String? = nil, startedAt: Date? = nil,
        finishedAt: Date? = nil
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
    }
}

/// An item as the ingestor hands it to the store.
public struct NewItem: Sendable, Equatable {
    public var index: Int
    public var groupKey: String?
    public var input: JSONObject

    public init(index: Int, groupKey: String?, input: JSONObject) {
        self.index = index
        self.groupKey = groupKey
        self.input = input
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
    }

    public var itemID: Int64
    public var result: Result
    public var usage: TokenUsage
    public var model: String?
    public var startedAt: Date?

    public init(itemID: Int64, result: Result, usage: TokenUsage = TokenUsage(), model: String? = nil, startedAt: Date? = nil) {
        self.itemID = itemID
        self.result = result
        self.usage = usage
        self.model = model
        self.startedAt = startedAt
    }
}
