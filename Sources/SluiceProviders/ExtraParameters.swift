import Logging
import SluiceCore
import SluiceWire
import Synchronization

/// Which of a call's extras (``CallExtras``) it carries, and how a provider that refuses one is
/// asked instead.
///
/// A strict schema removes most repair calls, a cache key and a cache marker make repeated
/// prefixes cheap; but not every server or model takes them. A call refused for one (a 400
/// naming its parameter) is made again at once without it — the item loses nothing — and the
/// model is remembered, so its later calls go without. One per provider: what it learns is
/// about that provider's models, in this process.
final class ExtraParameters: Sendable {
    let strictSchemas: Bool
    /// The extras this provider's API has (OpenAI's cache key, Anthropic's cache marker).
    let offered: Set<CallExtras.Extra>
    private let refused = Mutex<Set<String>>([])

    init(strictSchemas: Bool, offered: Set<CallExtras.Extra>) {
        self.strictSchemas = strictSchemas
        self.offered = offered
    }

    /// The extras `request` is sent with: those offered, asked for, and not refused for its model.
    func extras(for request: ModelRequest) -> CallExtras {
        var extras = CallExtras()
        // A call that names its own `response_format` is sent with it: no strict schema, so a
        // refusal of that format is not taken for the model refusing strict schemas (which
        // would turn them off for every other job on the model).
        if strictSchemas, let schema = request.outputSchema, request.params["response_format"] == nil {
            extras.strictSchema = StrictSchema.strict(schema.json)
        }
        if request.operation == .chat, let key = request.promptCacheKey { extras.promptCacheKey = key }
        if request.operation == .chat, request.system != nil { extras.cacheTTL = request.longCache ? "1h" : "5m" }
        if request.operation == .chat { extras.flexTier = request.flexTier }
        let refused = refused.withLock { $0 }
        for extra in CallExtras.Extra.allCases where !offered.contains(extra) || refused.contains(Self.key(request.model, extra)) {
            extras.drop(extra)
        }
        return extras
    }

    /// `call` made with the request's extras, and again without any the provider refuses; a
    /// strict answer is mapped back to the schema as written.
    func complete(
        _ request: ModelRequest, provider: String, _ call: (CallExtras) async throws(ProviderFailure) -> ModelReply
    ) async throws(ProviderFailure) -> ModelReply {
        var extras = extras(for: request)
        while true {
            do {
                var reply = try await call(extras)
                if extras.strictSchema != nil, let original = request.outputSchema?.json, let answer = try? JSONParser.parse(reply.text) {
                    reply.text = JSONWriter.string(StrictSchema.restore(answer, original: original))
                }
                return reply
            } catch {
                guard case .rejected(let message) = error,
                    let extra = CallExtras.Extra.allCases.first(where: {
                        extras.carries($0) && $0.parameters.contains { message.contains($0) }
                    })
                else { throw error }
                _ = refused.withLock { $0.insert(Self.key(request.model, extra)) }
                extras.drop(extra)
                Logger(label: "sluice.provider").notice(
                    "the provider refused a parameter; the model's calls go without it from now on",
                    metadata: [
                        "provider": "\(provider)", "model": "\(request.model)", "parameter": "\(extra.rawValue)", "message": "\(message)",
                    ])
            }
        }
    }

    static func key(_ model: String, _ extra: CallExtras.Extra) -> String { model + "\u{1F}" + extra.rawValue }
}
