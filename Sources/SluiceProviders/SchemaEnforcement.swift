import Logging
import SluiceCore
import SluiceWire
import Synchronization

/// Whether a call asks its provider to enforce the output schema while it generates, and how a
/// provider that refuses is asked instead.
///
/// A strict schema removes most repair calls (the model cannot answer outside it); but not
/// every server or model takes the parameter. A call it is refused for (a 400 naming the
/// parameter) is made again at once without it — the item loses nothing — and the model is
/// remembered, so its later calls go without. One per provider: what it learns is about that
/// provider's models, in this process.
final class SchemaEnforcement: Sendable {
    let enabled: Bool
    private let refusingModels = Mutex<Set<String>>([])

    init(enabled: Bool) {
        self.enabled = enabled
    }

    /// The strict form of `request`'s schema when it is to be sent: asked for, expressible,
    /// and the model has not refused it.
    func strictSchema(for request: ModelRequest) -> JSONValue? {
        guard enabled, let schema = request.outputSchema, !refusingModels.withLock({ $0.contains(request.model) }) else { return nil }
        return StrictSchema.strict(schema.json)
    }

    /// `call` made with the strict schema where there is one, and again without it when the
    /// provider refuses the parameter; a strict answer is mapped back to the schema as written.
    func complete(
        _ request: ModelRequest, provider: String, _ call: (JSONValue?) async throws(ProviderFailure) -> ModelReply
    ) async throws(ProviderFailure) -> ModelReply {
        guard let strict = strictSchema(for: request), let original = request.outputSchema?.json else { return try await call(nil) }
        var reply: ModelReply
        do {
            reply = try await call(strict)
        } catch {
            guard case .rejected(let message) = error, Self.namesStructuredOutput(message) else { throw error }
            refusingModels.withLock { _ = $0.insert(request.model) }
            Logger(label: "sluice.provider").notice(
                "the provider refused a strict schema; its calls go without one from now on",
                metadata: ["provider": "\(provider)", "model": "\(request.model)", "message": "\(message)"])
            return try await call(nil)
        }
        if let answer = try? JSONParser.parse(reply.text) {
            reply.text = JSONWriter.string(StrictSchema.restore(answer, original: original))
        }
        return reply
    }

    /// Whether a refusal names the structured-output parameters (OpenAI's `response_format`
    /// or `json_schema`, Anthropic's `output_format`).
    static func namesStructuredOutput(_ message: String) -> Bool {
        ["response_format", "json_schema", "output_format"].contains { message.contains($0) }
    }
}
