import Foundation
public import SluiceCore
import SluiceWire

/// Any server that speaks OpenAI's chat completions: OpenAI, vLLM, Ollama, llama.cpp,
/// LM Studio, Groq, Together…
///
/// With an output schema, asks the server to enforce it (`json_schema`, strict), or for JSON
/// mode where a model refuses that (see ``ExtraParameters``); every reply is validated anyway.
public struct OpenAICompatibleProvider: ModelProvider {
    public let name: String
    public var system: String { "openai" }
    /// Its base URL goes up to and including the version segment, e.g. `https://api.openai.com/v1`.
    public let endpoint: ProviderEndpoint

    let extras: ExtraParameters

    public init(name: String, endpoint: ProviderEndpoint, strictSchemas: Bool = true) {
        self.name = name
        self.endpoint = endpoint
        extras = ExtraParameters(strictSchemas: strictSchemas, offered: [.strictSchema, .promptCacheKey, .flexTier])
    }

    public func complete(_ request: ModelRequest) async throws(ProviderFailure) -> ModelReply {
        let headers = endpoint.apiKey.map { [("Authorization", "Bearer \($0)")] } ?? []
        if case .embeddings(let texts) = request.operation { return try await embed(texts, request: request, headers: headers) }
        if let reason = ChatCompletionsRequest.refusal(for: request) { throw .rejected(reason) }
        return try await extras.complete(request, provider: name) { extras throws(ProviderFailure) in
            // Flex calls wait their turn at the provider: OpenAI advises 15 minutes.
            let timeout = extras.flexTier ? max(endpoint.timeoutSeconds, Self.flexTimeoutSeconds) : nil
            let (json, signal) = try await endpoint.post(
                "/chat/completions", headers: headers, body: Self.chatBody(request, extras: extras), timeoutSeconds: timeout)
            return try Self.chatReply(json, request: request, signal: signal)
        }
    }

    /// The body of a chat call sent with `extras`.
    static func chatBody(_ request: ModelRequest, extras: CallExtras) -> JSONValue {
        WireEncoder.encode(
            ChatCompletionsRequest(
                request, strictSchema: extras.strictSchema, promptCacheKey: extras.promptCacheKey,
                serviceTier: extras.flexTier ? "flex" : nil
            ))
    }

    /// The reply a chat completion `json` gives (live, or a batch's result line).
    static func chatReply(_ json: JSONValue, request: ModelRequest, signal: RateLimitSignal?) throws(ProviderFailure) -> ModelReply {
        // A reply cut at its limit before it said anything may carry no content at all.
        guard let reply = try? WireDecoder.decode(ChatCompletion.self, from: json),
            let content = reply.text ?? (FinishReason.isCutAtLimit(reply.finishReason) || !reply.toolCalls.isEmpty ? "" : nil)
        else {
            throw .transient("the reply has no choices[0].message.content")
        }
        var answer = ModelReply(
            text: content, usage: reply.usage, model: reply.model ?? request.model, signal: signal, finishReason: reply.finishReason)
        answer.toolCalls = reply.toolCalls
        // Priced as flex only when the provider says it served it so.
        answer.tier = reply.serviceTier == "flex" ? .flex : .standard
        return answer
    }

    /// The shortest deadline a flex call is given.
    static let flexTimeoutSeconds: Double = 900

    /// `POST /embeddings`: one float vector per text, put back in input order by each entry's `index`.
    func embed(_ texts: [String], request: ModelRequest, headers: [(String, String)]) async throws(ProviderFailure) -> ModelReply {
        let body = WireEncoder.encode(EmbeddingsRequest(texts: texts, request: request))
        let (json, signal) = try await endpoint.post("/embeddings", headers: headers, body: body)
        return try Self.embeddingsReply(json, texts: texts, request: request, signal: signal)
    }

    /// The reply an embeddings `json` gives (live, or a batch's result line).
    static func embeddingsReply(_ json: JSONValue, texts: [String], request: ModelRequest, signal: RateLimitSignal?) throws(ProviderFailure)
        -> ModelReply
    {
        let reply: EmbeddingsReply
        let vectors: [[Double]]
        do {
            reply = try WireDecoder.decode(EmbeddingsReply.self, from: json)
            vectors = try reply.vectors(count: texts.count)
        } catch {
            throw .transient("the embeddings reply is refused: \(error)")
        }
        return ModelReply(text: "", usage: reply.usage, model: reply.model ?? request.model, signal: signal, embeddings: vectors)
    }
}
