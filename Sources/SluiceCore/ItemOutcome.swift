public import Foundation

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
        /// The reply was cut at its token limit before it said anything (a reasoning model spent
        /// the limit thinking): back to pending without spending the attempt, to be asked with
        /// a limit of `replyTokens` (see ``ReplyBudget``).
        case raiseReplyLimit(String, replyTokens: Int)
        /// As ``raiseReplyLimit(_:replyTokens:)``, but the limit cannot grow (the job's cap or
        /// token budget): back to pending unspent, and the job pauses with the reason.
        case capped(String)
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
    /// What the call would have cost at the list price (``ModelPrices/listCostMicros(model:usage:)``),
    /// on the same outcome as `costMicros`: the job's savings are the difference.
    public var listCostMicros: Int64 = 0
    /// The tier the call was served at.
    public var tier: Tier = .standard
    /// The provider that served the call (`nil` for a cache hit, or an item that made none):
    /// the usage ledger's key, with the model.
    public var provider: String?
    /// The output came from the result cache, not a call.
    public var cached: Bool
    /// Where a validated output is kept for identical requests; `nil` when the job does not cache.
    public var cacheKey: String?
    /// The attempt (the item's `attempts` when it was claimed) this outcome is of: the store
    /// records it only while the item is still on that attempt, so a late answer to an earlier
    /// attempt — the lease ran out and the same worker claimed it again — is dropped.
    /// `nil` records it whatever the attempt.
    public var attempt: Int?
    /// Why the call's reply ended, as the provider said it; `nil` when there was no reply.
    public var finishReason: String?

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
