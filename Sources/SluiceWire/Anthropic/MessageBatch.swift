/// Anthropic's Message Batch object. Times are RFC 3339 strings, as Anthropic's are; a field
/// Anthropic gives as `null` is written so, not left out.
public struct MessageBatch: Encodable, Sendable, Equatable {
    /// How many requests are still processing, and how each ended.
    public struct RequestCounts: Encodable, Sendable, Equatable {
        var processing: Int
        var succeeded: Int
        var errored: Int
        var canceled: Int
        var expired: Int

        public init(processing: Int, succeeded: Int, errored: Int, canceled: Int, expired: Int) {
            self.processing = processing
            self.succeeded = succeeded
            self.errored = errored
            self.canceled = canceled
            self.expired = expired
        }
    }

    public var id: String
    /// `in_progress`, `canceling` or `ended`.
    public var processingStatus: String
    public var requestCounts: RequestCounts
    public var endedAt: String?
    public var createdAt: String?
    public var expiresAt: String?
    public var cancelInitiatedAt: String?
    public var resultsURL: String?

    public init(id: String, processingStatus: String, requestCounts: RequestCounts) {
        self.id = id
        self.processingStatus = processingStatus
        self.requestCounts = requestCounts
    }

    enum CodingKeys: String, CodingKey {
        case id, type
        case processingStatus = "processing_status"
        case requestCounts = "request_counts"
        case endedAt = "ended_at"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case archivedAt = "archived_at"
        case cancelInitiatedAt = "cancel_initiated_at"
        case resultsURL = "results_url"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode("message_batch", forKey: .type)
        try container.encode(processingStatus, forKey: .processingStatus)
        try container.encode(requestCounts, forKey: .requestCounts)
        try container.encode(endedAt, forKey: .endedAt)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(expiresAt, forKey: .expiresAt)
        try container.encodeNil(forKey: .archivedAt)
        try container.encode(cancelInitiatedAt, forKey: .cancelInitiatedAt)
        try container.encode(resultsURL, forKey: .resultsURL)
    }
}
