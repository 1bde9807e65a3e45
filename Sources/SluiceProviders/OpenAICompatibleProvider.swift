import Foundation
public import SluiceCore

/// Any server that speaks OpenAI's chat completions: OpenAI, vLLM, Ollama, llama.cpp,
/// LM Studio, Groq, Together…
///
/// Asks for JSON mode (`response_format: json_object`) when the spec has an output schema —
/// the schema itself is in the system prompt and every reply is validated anyway, and
/// `json_object` is what every one of these servers accepts.
public struct OpenAICompatibleProvider: ModelProvider {
    public let name: String
    /// Its base URL goes up to and including the version segment, e.g. `https://api.openai.com/v1`.
    public let endpoint: ProviderEndpoint

    public init(name: String, endpoint: ProviderEndpoint) {
        self.name = name
        self.endpoint = endpoint
    }

    public func complete(_ request: ModelRequest) async throws(ProviderFailure) -> ModelReply {
        let headers = endpoint.apiKey.map { [("Authorization", "Bearer \($0)")] } ?? []
        if case .embeddings(let texts) = request.operation { return try await embed(texts, request: request, headers: headers) }
        let (reply, signal) = try await endpoint.post("/chat/completions", headers: headers, body: Self.body(for: request))
        guard let content = reply["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue else {
            throw .transient("the reply has no choices[0].message.content")
        }
        let usage = TokenUsage(
            promptTokens: reply["usage"]?["prompt_tokens"]?.intValue ?? 0,
            completionTokens: reply["usage"]?["completion_tokens"]?.intValue ?? 0)
        return ModelReply(text: content, usage: usage, model: reply["model"]?.stringValue ?? request.model, signal: signal)
    }

    /// `POST /embeddings`: one float vector per text, put back in input order by each entry's `index`.
    func embed(_ texts: [String], request: ModelRequest, headers: [(String, String)]) async throws(ProviderFailure) -> ModelReply {
        var body = JSONObject([("model", .string(request.model)), ("input", .array(texts.map(JSONValue.string)))])
        body["encoding_format"] = "float"
        for parameter in request.params { body[parameter.key] = parameter.value }
        let (reply, signal) = try await endpoint.post("/embeddings", headers: headers, body: .object(body))
        guard let entries = reply["data"]?.arrayValue, entries.count == texts.count else {
            throw .transient("the reply does not hold \(texts.count) embeddings in data")
        }
        var vectors = [[Double]](repeating: [], count: texts.count)
        for (position, entry) in entries.enumerated() {
            let index = entry["index"]?.intValue ?? position
            guard vectors.indices.contains(index), let numbers = entry["embedding"]?.arrayValue else {
                throw .transient("the reply's embedding \(position) has no index in range or no float vector")
            }
            let vector = numbers.compactMap(\.doubleValue)
            guard vector.count == numbers.count, !vector.isEmpty else {
                throw .transient("the reply's embedding \(index) is not a list of numbers")
            }
            vectors[index] = vector
        }
        guard vectors.allSatisfy({ !$0.isEmpty }) else { throw .transient("the reply repeats an embedding index") }
        let usage = TokenUsage(promptTokens: reply["usage"]?["prompt_tokens"]?.intValue ?? 0, completionTokens: 0)
        return ModelReply(text: "", usage: usage, model: reply["model"]?.stringValue ?? request.model, signal: signal, embeddings: vectors)
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
