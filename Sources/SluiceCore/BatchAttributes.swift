/// What makes a job an OpenAI Batch API batch: the fields the Batch API returns that a native
/// job does not have.
public struct BatchAttributes: Sendable, Equatable {
    public var inputFileID: String
    public var endpoint: String
    public var completionWindow: String
    /// Up to 16 string pairs the caller attached; returned unchanged.
    public var metadata: JSONObject?
    /// Seconds after the batch ends that its output and error files are kept
    /// (`output_expires_after`); `nil` keeps them as long as the batch.
    public var outputExpiresAfter: Int?
    /// How many requests the batch was created with, when they came inline (Anthropic's
    /// Message Batches): its counts before its lines are read.
    public var requestCount: Int?

    public init(
        inputFileID: String, endpoint: String, completionWindow: String, metadata: JSONObject?, outputExpiresAfter: Int? = nil,
        requestCount: Int? = nil
    ) {
        self.outputExpiresAfter = outputExpiresAfter
        self.requestCount = requestCount
        self.inputFileID = inputFileID
        self.endpoint = endpoint
        self.completionWindow = completionWindow
        self.metadata = metadata
    }

    public var json: JSONValue {
        var object = JSONObject()
        object["input_file_id"] = .string(inputFileID)
        object["endpoint"] = .string(endpoint)
        object["completion_window"] = .string(completionWindow)
        if let metadata { object["metadata"] = .object(metadata) }
        if let outputExpiresAfter { object["output_expires_after"] = .int(outputExpiresAfter) }
        if let requestCount { object["request_count"] = .int(requestCount) }
        return .object(object)
    }

    public init?(json: JSONValue) {
        guard let input = json["input_file_id"]?.stringValue, let endpoint = json["endpoint"]?.stringValue,
            let window = json["completion_window"]?.stringValue
        else { return nil }
        var metadata: JSONObject?
        if case .object(let members)? = json["metadata"] { metadata = members }
        self.init(
            inputFileID: input, endpoint: endpoint, completionWindow: window, metadata: metadata,
            outputExpiresAfter: json["output_expires_after"]?.intValue, requestCount: json["request_count"]?.intValue)
    }
}
