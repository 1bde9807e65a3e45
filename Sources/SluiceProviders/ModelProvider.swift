public import SluiceCore

/// Somewhere model calls go. Implementations map ``ModelRequest`` to their wire format and
/// classify every failure as a ``ProviderFailure`` — they never invent a reply.
public protocol ModelProvider: Sendable {
    /// The name a spec's `provider` field refers to.
    var name: String { get }

    /// Whose API it speaks, as OpenTelemetry's `gen_ai.system` names it (`openai`, `anthropic`).
    var system: String { get }

    /// Makes one model call.
    func complete(_ request: ModelRequest) async throws(ProviderFailure) -> ModelReply
}

extension ModelProvider {
    /// Test and scripted providers speak nobody's API.
    public var system: String { "sluice" }

    /// How it counts an image's tokens: OpenAI's API by tiles, the others by pixels (Anthropic's
    /// rule; the built-in provider counts as it does).
    public var imageTokenRule: ImageTokens.Rule { system == "openai" ? .tiles : .pixels }
}
