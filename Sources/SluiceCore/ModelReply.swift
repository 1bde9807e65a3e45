/// A provider's answer: the text of the reply (or the embeddings asked for) and what it cost.
public struct ModelReply: Sendable, Equatable {
    public var text: String
    /// One vector per input text, in order, for an embeddings call; `nil` for a chat call.
    public var embeddings: [[Double]]?
    public var usage: TokenUsage
    /// The model that answered, as the provider named it.
    public var model: String
    /// What the response headers said about the provider's limits.
    public var signal: RateLimitSignal?
    /// Why the reply ended, as the provider said it (`stop`, `length`, `end_turn`, `max_tokens`…).
    public var finishReason: String?
    /// The tier the provider says it served the call at: `flex` only when it says so.
    public var tier: Tier = .standard
    /// The tools the model called, in order (its `text` is then often empty).
    public var toolCalls: [ToolCall] = []

    public init(
        text: String, usage: TokenUsage, model: String, signal: RateLimitSignal? = nil, embeddings: [[Double]]? = nil,
        finishReason: String? = nil
    ) {
        self.finishReason = finishReason
        self.text = text
        self.embeddings = embeddings
        self.usage = usage
        self.model = model
        self.signal = signal
    }
}
