import Foundation
public import SluiceCore

/// Anthropic's Messages API: `x-api-key`, `anthropic-version`, the system prompt as its own
/// field, and strictly alternating user/assistant turns (consecutive turns of one role, such
/// as a prompt followed by a correction, are joined).
public struct AnthropicProvider: ModelProvider {
    public let name: String
    /// Its base URL has no version segment, e.g. `https://api.anthropic.com` (a trailing `/v1`
    /// is dropped, since both spellings are common in configurations).
    public let endpoint: ProviderEndpoint

    public static let apiVersion = "2023-06-01"
    /// Anthropic requires `max_tokens`; this is used when the spec's params set none.
    public static let defaultMaxTokens = 1024

    public init(name: String, endpoint: ProviderEndpoint) {
        self.name = name
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
        var headers = [("anthropic-version", Self.apiVersion)]
        if let apiKey = endpoint.apiKey { headers.append(("x-api-key", apiKey)) }
        let (reply, signal) = try await endpoint.post("/v1/messages", headers: headers, body: Self.body(for: request))
        guard let blocks = reply["content"]?.arrayValue else { throw .transient("the reply has no content blocks") }
        let text = blocks.compactMap { $0["type"] == "text" ? $0["text"]?.stringValue : nil }.joined()
        guard !blocks.isEmpty, blocks.contains(where: { $0["type"] == "text" }) else {
            throw .transient("the reply has no text content")
        }
        let usage = TokenUsage(
            promptTokens: reply["usage"]?["input_tokens"]?.intValue ?? 0, completionTokens: reply["usage"]?["output_tokens"]?.intValue ?? 0)
        return ModelReply(text: text, usage: usage, model: reply["model"]?.stringValue ?? request.model, signal: signal)
    }

    /// The Messages request body.
    static func body(for request: ModelRequest) -> JSONValue {
        var turns: [(role: String, content: String)] = []
        for message in request.messages where message.role != .system {
            if let last = turns.last, last.role == message.role.rawValue {
                turns[turns.count - 1].content += "\n\n" + message.content
            } else {
                turns.append((message.role.rawValue, message.content))
            }
        }
        let systemParts = [request.system] + request.messages.filter { $0.role == .system }.map(\.content)
        var body = JSONObject([
            ("model", .string(request.model)),
            ("max_tokens", .int(request.params["max_tokens"]?.intValue ?? Self.defaultMaxTokens)),
        ])
        let system = systemParts.compactMap { $0 }.joined(separator: "\n\n")
        if !system.isEmpty { body["system"] = .string(system) }
        body["messages"] = .array(turns.map { ["role": .string($0.role), "content": .string($0.content)] })
        // OpenAI-only parameters would be refused by Anthropic; pass the shared ones.
        for key in ["temperature", "top_p", "top_k", "stop_sequences", "metadata"] {
            if let value = request.params[key] { body[key] = value }
        }
        return .object(body)
    }
}
