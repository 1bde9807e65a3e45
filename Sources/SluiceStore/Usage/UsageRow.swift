/// What one user's calls to one provider's model spent on one UTC day, from the usage ledger
/// (written by the statement that records each call, so it adds up to the jobs' usage).
public struct UsageRow: Sendable, Equatable {
    /// `2026-12-07`.
    public var day: String
    public var user: String
    public var provider: String
    public var model: String
    public var calls: Int64
    public var promptTokens: Int64
    public var completionTokens: Int64
    public var cachedTokens: Int64
    public var costMicros: Int64

    public init(
        day: String, user: String, provider: String, model: String, calls: Int64, promptTokens: Int64, completionTokens: Int64,
        cachedTokens: Int64, costMicros: Int64
    ) {
        self.day = day
        self.user = user
        self.provider = provider
        self.model = model
        self.calls = calls
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.cachedTokens = cachedTokens
        self.costMicros = costMicros
    }
}
