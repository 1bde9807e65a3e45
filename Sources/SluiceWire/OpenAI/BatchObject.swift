public import SluiceCore

/// OpenAI's Batch object: what creating, reading, listing and cancelling a batch answer.
/// Times are Unix seconds; a field OpenAI gives as `null` is written so, not left out.
public struct BatchObject: Encodable, Sendable, Equatable {
    /// Why the input file was refused: a line's error code, words and number.
    public struct InputError: Encodable, Sendable, Equatable {
        var code: String
        var message: String
        var line: Int?

        public init(code: String, message: String, line: Int?) {
            self.code = code
            self.message = message
            self.line = line
        }

        enum CodingKeys: String, CodingKey {
            case code, message, param, line
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(code, forKey: .code)
            try container.encode(message, forKey: .message)
            try container.encodeNil(forKey: .param)
            try container.encode(line, forKey: .line)
        }
    }

    /// How many requests the batch holds, how many succeeded, how many failed or were cancelled.
    public struct RequestCounts: Encodable, Sendable, Equatable {
        var total: Int
        var completed: Int
        var failed: Int

        public init(total: Int, completed: Int, failed: Int) {
            self.total = total
            self.completed = completed
            self.failed = failed
        }
    }

    /// When each stage happened, in Unix seconds.
    public struct Times: Sendable, Equatable {
        public var createdAt: Int
        public var inProgressAt, expiresAt, finalizingAt, completedAt, failedAt, expiredAt, cancellingAt, cancelledAt: Int?

        public init(createdAt: Int) { self.createdAt = createdAt }
    }

    public var id: String
    public var endpoint: String
    public var model: String?
    /// Set only when the input was refused.
    public var errors: [InputError]?
    public var inputFileID: String
    public var completionWindow: String
    public var status: String
    public var outputFileID: String?
    public var errorFileID: String?
    public var times: Times
    public var requestCounts: RequestCounts
    public var metadata: JSONObject?
    public var usage: TokenUsage

    public init(
        id: String, endpoint: String, model: String?, inputFileID: String, completionWindow: String, status: String, times: Times,
        requestCounts: RequestCounts, usage: TokenUsage
    ) {
        self.id = id
        self.endpoint = endpoint
        self.model = model
        self.inputFileID = inputFileID
        self.completionWindow = completionWindow
        self.status = status
        self.times = times
        self.requestCounts = requestCounts
        self.usage = usage
    }

    enum CodingKeys: String, CodingKey {
        case id, object, endpoint, model, errors, status, metadata, usage
        case inputFileID = "input_file_id"
        case completionWindow = "completion_window"
        case outputFileID = "output_file_id"
        case errorFileID = "error_file_id"
        case createdAt = "created_at"
        case inProgressAt = "in_progress_at"
        case expiresAt = "expires_at"
        case finalizingAt = "finalizing_at"
        case completedAt = "completed_at"
        case failedAt = "failed_at"
        case expiredAt = "expired_at"
        case cancellingAt = "cancelling_at"
        case cancelledAt = "cancelled_at"
        case requestCounts = "request_counts"
    }

    enum ListKeys: String, CodingKey {
        case object, data
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode("batch", forKey: .object)
        try container.encode(endpoint, forKey: .endpoint)
        try container.encode(model, forKey: .model)
        if let errors {
            var list = container.nestedContainer(keyedBy: ListKeys.self, forKey: .errors)
            try list.encode("list", forKey: .object)
            try list.encode(errors, forKey: .data)
        } else {
            try container.encodeNil(forKey: .errors)
        }
        try container.encode(inputFileID, forKey: .inputFileID)
        try container.encode(completionWindow, forKey: .completionWindow)
        try container.encode(status, forKey: .status)
        try container.encode(outputFileID, forKey: .outputFileID)
        try container.encode(errorFileID, forKey: .errorFileID)
        try container.encode(times.createdAt, forKey: .createdAt)
        try container.encode(times.inProgressAt, forKey: .inProgressAt)
        try container.encode(times.expiresAt, forKey: .expiresAt)
        try container.encode(times.finalizingAt, forKey: .finalizingAt)
        try container.encode(times.completedAt, forKey: .completedAt)
        try container.encode(times.failedAt, forKey: .failedAt)
        try container.encode(times.expiredAt, forKey: .expiredAt)
        try container.encode(times.cancellingAt, forKey: .cancellingAt)
        try container.encode(times.cancelledAt, forKey: .cancelledAt)
        try container.encode(requestCounts, forKey: .requestCounts)
        try container.encode(metadata, forKey: .metadata)
        try container.encode(ResponsesUsage(tokens: usage, showsCacheWrites: false), forKey: .usage)
    }
}
