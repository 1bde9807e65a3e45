import Foundation
import NIOCore
import NIOHTTP1
public import SluiceCore
import SluiceWire

/// Anthropic's Message Batches: the calls go up in one request (`POST /v1/messages/batches`),
/// are polled (`GET /v1/messages/batches/{id}`) and their results read as JSON Lines from the
/// batch's results (`GET /v1/messages/batches/{id}/results`), one per call under its
/// `custom_id`. The results are always read at that path under the configured base URL, never
/// at a `results_url` the upstream names: the key goes only where it was configured to go.
struct AnthropicBatchAPI: BatchAPI {
    let provider: AnthropicProvider

    /// Anthropic's limits on one batch: 100,000 requests, 256 MB.
    let maxRequests = 100_000
    let maxBytes = 256_000_000

    func entry(_ call: BatchCall) -> JSONValue {
        [
            "custom_id": .string(call.customID),
            "params": AnthropicProvider.body(call.request, extras: provider.extras.batchExtras(for: call.request)),
        ]
    }

    func size(of call: BatchCall) -> Int { JSONWriter.string(entry(call)).utf8.count + 1 }

    func submit(_ calls: [BatchCall], label: String) async throws(ProviderFailure) -> String {
        try await provider.extras.submitBatch(calls, provider: provider.name) { () async throws(ProviderFailure) -> String in
            try await create(calls)
        }
    }

    /// One attempt at submitting.
    func create(_ calls: [BatchCall]) async throws(ProviderFailure) -> String {
        guard !calls.isEmpty else { throw .rejected("an upstream batch needs at least one call") }
        if let call = calls.first(where: { $0.request.operation != .chat }) {
            throw .rejected("call \(call.customID) asks for embeddings, which Anthropic's Message Batches do not make")
        }
        let strict = calls.contains { provider.extras.batchExtras(for: $0.request).strictSchema != nil }
        let beta = strict ? [("anthropic-beta", MessagesRequest.structuredOutputsBeta)] : []
        let body: JSONValue = ["requests": .array(calls.map(entry))]
        let created = try await json(
            provider.endpoint.send(
                .POST, "/v1/messages/batches", headers: provider.headers + beta + [("Content-Type", "application/json")],
                body: ByteBuffer(string: JSONWriter.string(body))))
        guard let id = created["id"]?.stringValue else { throw .transient("the batch's reply has no id") }
        return id
    }

    func state(of id: String) async throws(ProviderFailure) -> UpstreamState {
        let batch = try await json(
            provider.endpoint.send(.GET, "/v1/messages/batches/\(OpenAIBatchAPI.escaped(id))", headers: provider.headers))
        switch batch["processing_status"]?.stringValue {
        case "ended"?: return .ended
        case "in_progress"?, "canceling"?: return .running
        case let other: throw .transient("the batch's processing_status is not one Anthropic has: \(other ?? "none")")
        }
    }

    func results(of id: String, calls: [String: ModelRequest]) async throws(ProviderFailure)
        -> [String: Result<ModelReply, ProviderFailure>]
    {
        let text = try await provider.endpoint.send(
            .GET, "/v1/messages/batches/\(OpenAIBatchAPI.escaped(id))/results", headers: provider.headers)
        var results: [String: Result<ModelReply, ProviderFailure>] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            guard let entry = try? JSONParser.parse(line.utf8), let customID = entry["custom_id"]?.stringValue,
                let request = calls[customID],
                let result = entry["result"]
            else { continue }
            switch result["type"]?.stringValue {
            case "succeeded"?:
                let extras = provider.extras.batchExtras(for: request)
                do throws(ProviderFailure) {
                    let reply = try AnthropicProvider.reply(result["message"] ?? .null, request: request, signal: nil)
                    results[customID] = .success(ExtraParameters.restored(reply, extras: extras, request: request))
                } catch {
                    results[customID] = .failure(error)
                }
            case "errored"?:
                let error = result["error"]?["error"] ?? result["error"]
                let message = error?["message"]?.stringValue ?? "the batch returned an error"
                // Anthropic's error types: invalid_request_error is the request's fault; the others are not.
                results[customID] = .failure(
                    error?["type"]?.stringValue == "invalid_request_error"
                        ? .rejected(ProviderFailure.scrubbed(message)) : .transient(message))
            default:
                // canceled, expired: the batch never ran it; no result, the call goes again.
                continue
            }
        }
        return results
    }

    func cancel(_ id: String) async throws(ProviderFailure) {
        _ = try await provider.endpoint.send(.POST, "/v1/messages/batches/\(OpenAIBatchAPI.escaped(id))/cancel", headers: provider.headers)
    }

}

extension AnthropicProvider: BatchingProvider {
    public var batchAPI: any BatchAPI { AnthropicBatchAPI(provider: self) }
}
