public import SluiceCore

/// One line of a Message Batch's results: the request's `custom_id` and how it ended —
/// `succeeded` with the message, `errored` with an Anthropic error, `canceled` or `expired`.
public struct MessageBatchResult: Encodable, Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        case succeeded(MessagesReply)
        case errored(message: String)
        case canceled
        case expired
    }

    var customID: JSONValue
    var outcome: Outcome

    public init(customID: JSONValue, outcome: Outcome) {
        self.customID = customID
        self.outcome = outcome
    }

    enum CodingKeys: String, CodingKey {
        case result
        case customID = "custom_id"
    }

    enum ResultKeys: String, CodingKey {
        case type, message, error
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(customID, forKey: .customID)
        var result = container.nestedContainer(keyedBy: ResultKeys.self, forKey: .result)
        switch outcome {
        case .succeeded(let message):
            try result.encode("succeeded", forKey: .type)
            try result.encode(message, forKey: .message)
        case .errored(let message):
            try result.encode("errored", forKey: .type)
            let error: JSONValue = ["type": "error", "error": ["type": "api_error", "message": .string(message)]]
            try result.encode(error, forKey: .error)
        case .canceled: try result.encode("canceled", forKey: .type)
        case .expired: try result.encode("expired", forKey: .type)
        }
    }
}
