import Foundation
public import SluiceCore
import SluiceWire

/// Anthropic's Messages API: `x-api-key`, `anthropic-version`, the system prompt as its own
/// field, and strictly alternating user/assistant turns (consecutive turns of one role, such
/// as a prompt followed by a correction, are joined).
public struct AnthropicProvider: ModelProvider {
    public let name: String
    public var system: String { "anthropic" }
    /// Its base URL has no version segment, e.g. `https://api.anthropic.com` (a trailing `/v1`
    /// is dropped, since both spellings are common in configurations).
    public let endpoint: ProviderEndpoint

    public static let apiVersion = "2023-06-01"

    let extras: ExtraParameters

    public init(name: String, endpoint: ProviderEndpoint, strictSchemas: Bool = true) {
        self.name = name
        extras = ExtraParameters(strictSchemas: strictSchemas, offered: [.strictSchema, .cacheControl])
        self.endpoint =
            endpoint.baseURL.hasSuffix("/v1")
            ? ProviderEndpoint(
                baseURL: String(endpoint.baseURL.dropLast(3)), apiKey: endpoint.apiKey, extraHeaders: endpoint.extraHeaders,
                timeoutSeconds: endpoint.timeoutSeconds, http: endpoint.http)
            : endpoint
    }

    public func complete(_ request: ModelRequest) async throws(ProviderFailure) -> ModelReply {
        guard case .chat = request.operation else {
            throw .rejected("provider \(name) is Anthropic's Messages API, which makes no embeddings: route the model elsewhere")
        }
        // What the API would refuse after a round trip (and count against the limits) fails
        // the row here, with the reason.
        for image in request.messages.flatMap(\.images) {
            if let reason = image.refusal(maxBytes: Self.maxImageBytes, maxSide: Self.maxImageSide, provider: "Anthropic") {
                throw .rejected(reason)
            }
        }
        if let reason = MessagesRequest.refusal(for: request) { throw .rejected(reason) }
        let headers = headers
        return try await extras.complete(request, provider: name) { extras throws(ProviderFailure) in
            let beta = extras.strictSchema == nil ? [] : [("anthropic-beta", MessagesRequest.structuredOutputsBeta)]
            let (json, signal) = try await endpoint.post("/v1/messages", headers: headers + beta, body: Self.body(request, extras: extras))
            return try Self.reply(json, request: request, signal: signal)
        }
    }

    /// The largest image the Messages API takes inline, and its longest side.
    static let maxImageBytes = 5 << 20
    static let maxImageSide = 8000

    /// The headers of every call: the API version and the key.
    var headers: [(String, String)] {
        [("anthropic-version", Self.apiVersion)] + (endpoint.apiKey.map { [("x-api-key", $0)] } ?? [])
    }

    /// The body of a call sent with `extras`.
    static func body(_ request: ModelRequest, extras: CallExtras) -> JSONValue {
        WireEncoder.encode(MessagesRequest(request, strictSchema: extras.strictSchema, cacheTTL: extras.cacheTTL))
    }

    /// The reply a message `json` gives (live, or a batch's result).
    static func reply(_ json: JSONValue, request: ModelRequest, signal: RateLimitSignal?) throws(ProviderFailure) -> ModelReply {
        let reply: MessagesReply
        do { reply = try WireDecoder.decode(MessagesReply.self, from: json) } catch {
            throw .transient("the reply has no content blocks")
        }
        // A reply cut at its limit before it said anything may carry no text block at all.
        guard let text = reply.text ?? (FinishReason.isCutAtLimit(reply.finishReason) || !reply.toolCalls.isEmpty ? "" : nil) else {
            throw .transient("the reply has no text content")
        }
        var answer = ModelReply(
            text: text, usage: reply.usage, model: reply.model ?? request.model, signal: signal, finishReason: reply.finishReason)
        answer.toolCalls = reply.toolCalls
        return answer
    }
}
