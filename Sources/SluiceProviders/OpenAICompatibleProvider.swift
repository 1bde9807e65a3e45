import Foundation
import SluiceCore

/// Any server that speaks OpenAI's chat completions: OpenAI, vLLM, Ollama, llama.cpp,
/// LM Studio, Groq, Together…
///
/// Asks for JSON mode (`response_format: json_object`) when the spec has an output schema —
/// the schema itself is in the system prompt and every reply is validated anyway, and
/// `json_object` is what every one of these servers accepts.
public struct OpenAICompatibleProvider: ModelProvider {
    public let name: String
    /// Up to and including the version segment, e.g. `https://api.openai.com/v1`.
    public let baseURL: String
    let apiKey: String?
    let extraHeaders: [(String, String)]
    let timeoutSeconds: Double
    let http: ProviderHTTPClient

    public init(
        name: String, baseURL: String, apiKey: String?, extraHeaders: [(String, String)] = [], timeoutSeconds: Double = 120,
        http: ProviderHTTPClient
    ) {
        self.name = name
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
        self.extraHeaders = extraHeaders
        self.timeoutSeconds = timeoutSeconds
        self.http = http
    }

    public func complete(_ request: ModelRequest) async throws(ProviderFailure) -> ModelReply {
        var headers = extraHeaders
        if let apiKey { headers.append(("Authorization", "Bearer \(apiKey)")) }
        let (reply, signal) = try await http.postJSON(
            url: baseURL + "/chat/completions", headers: headers, body: Self.body(for: request), timeoutSeconds: timeoutSeconds,
            secret: apiKey)
        guard let content = reply["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue else {
            throw .transient("the reply has no choices[0].message.content")
        }
        let usage = TokenUsage(
            promptTokens: reply["usage"]?["prompt_tokens"]?.intValue ?? 0,
            completionTokens: reply["usage"]?["completion_tokens"]?.intValue ?? 0)
        return ModelReply(text: content, usage: usage, model: reply["model"]?.stringValue ?? request.model, signal: signal)
    }

    /// The chat-completions request body.
    static func body(for request: ModelRequest) -> JSONValue {
        var messages: [JSONValue] = []
        if let system = request.system { messages.append(["role": "system", "content": .string(system)]) }
        for message in request.messages {
            messages.append(["role": .string(message.role.rawValue), "content": .string(message.content)])
        }
        var body = JSONObject([("model", .string(request.model)), ("messages", .array(messages))])
        for parameter in request.params where parameter.key != "model" && parameter.key != "messages" {
            body[parameter.key] = parameter.value
        }
        if request.outputSchema != nil, body["response_format"] == nil {
            body["response_format"] = ["type": "json_object"]
        }
        return .object(body)
    }
}

/// Printing a provider never shows its key.
extension OpenAICompatibleProvider: CustomReflectable {
    public var customMirror: Mirror {
        Mirror(self, children: ["name": name, "baseURL": baseURL, "apiKey": apiKey == nil ? "none" : "[redacted]"])
    }
}
