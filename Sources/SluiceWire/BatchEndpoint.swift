public import SluiceCore

/// The model APIs a batch line may call: OpenAI's three, and Anthropic's Messages.
public enum BatchEndpoint: String, Sendable, CaseIterable {
    case chatCompletions = "/v1/chat/completions"
    case embeddings = "/v1/embeddings"
    case responses = "/v1/responses"
    case messages = "/v1/messages"

    /// The endpoints an OpenAI batch may name.
    public static let openAI: [BatchEndpoint] = [.chatCompletions, .embeddings, .responses]

    /// The provider-neutral call a request body of this endpoint asks for.
    public func modelRequest(body: JSONObject) throws(SpecError) -> ModelRequest {
        switch self {
        case .chatCompletions: try ChatCompletionsRequest.modelRequest(body: body)
        case .embeddings: try EmbeddingsRequest.modelRequest(body: body)
        case .responses: try ResponsesRequest.modelRequest(body: body)
        case .messages: try MessagesRequest.modelRequest(params: body)
        }
    }
}
