public import SluiceCore

/// One line of an OpenAI batch's output or error file: the line's `custom_id` with the
/// response its endpoint gave, or with the error that ended it.
public struct BatchRequestOutput: Encodable, Sendable, Equatable {
    /// The response body of a succeeded line: its endpoint's reply.
    public enum Body: Encodable, Sendable, Equatable {
        case chatCompletion(ChatCompletion)
        case embeddings(EmbeddingsReply)
        case response(ResponsesReply)

        public func encode(to encoder: any Encoder) throws {
            switch self {
            case .chatCompletion(let reply): try reply.encode(to: encoder)
            case .embeddings(let reply): try reply.encode(to: encoder)
            case .response(let reply): try reply.encode(to: encoder)
            }
        }
    }

    public enum Outcome: Sendable, Equatable {
        case response(requestID: String, body: Body)
        case error(code: String, message: String)
    }

    var id: String
    var customID: JSONValue
    var outcome: Outcome

    public init(id: String, customID: JSONValue, outcome: Outcome) {
        self.id = id
        self.customID = customID
        self.outcome = outcome
    }

    enum CodingKeys: String, CodingKey {
        case id, response, error
        case customID = "custom_id"
    }

    enum ResponseKeys: String, CodingKey {
        case body
        case statusCode = "status_code"
        case requestID = "request_id"
    }

    enum ErrorKeys: String, CodingKey {
        case code, message
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(customID, forKey: .customID)
        switch outcome {
        case .response(let requestID, let body):
            var response = container.nestedContainer(keyedBy: ResponseKeys.self, forKey: .response)
            try response.encode(200, forKey: .statusCode)
            try response.encode(requestID, forKey: .requestID)
            try response.encode(body, forKey: .body)
            try container.encodeNil(forKey: .error)
        case .error(let code, let message):
            try container.encodeNil(forKey: .response)
            var error = container.nestedContainer(keyedBy: ErrorKeys.self, forKey: .error)
            try error.encode(code, forKey: .code)
            try error.encode(message, forKey: .message)
        }
    }
}
