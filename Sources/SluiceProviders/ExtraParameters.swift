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
                return Self.restored(try await call(extras), extras: extras, request: request)
            } catch {
                guard let extra = refusedExtra(in: error, carried: extras, models: [request.model], provider: provider) else { throw error }
                extras.drop(extra)
            }
        }
    }

    /// The extra `failure` refuses — a 400 naming one of its parameters, among those `carried`
    /// — remembered for `models` so their later calls go without it; `nil` for any other failure.
    func refusedExtra(in failure: ProviderFailure, carried: CallExtras, models: Set<String>, provider: String) -> CallExtras.Extra? {
        guard case .rejected(let message) = failure,
            let extra = CallExtras.Extra.allCases.first(where: { carried.carries($0) && $0.parameters.contains { message.contains($0) } })
        else { return nil }
        refused.withLock { refused in
            for model in models { refused.insert(Self.key(model, extra)) }
        }
        Logger(label: "sluice.provider").notice(
            "the provider refused a parameter; the model's calls go without it from now on",
            metadata: [
                "provider": "\(provider)", "models": "\(models.sorted())", "parameter": "\(extra.rawValue)", "message": "\(message)",
            ])
        return extra
    }

    /// `submit` made with the calls' extras, and again without any the provider refuses (an
    /// upstream batch is refused whole when one of its calls carries what it does not take).
    func submitBatch(_ calls: [BatchCall], provider: String, _ submit: () async throws(ProviderFailure) -> String)
        async throws(ProviderFailure) -> String
    {
        while true {
            do {
                return try await submit()
            } catch {
                var carried = CallExtras()
                for call in calls { carried.merge(batchExtras(for: call.request)) }
                guard refusedExtra(in: error, carried: carried, models: Set(calls.map(\.request.model)), provider: provider) != nil else {
                    throw error
                }
            }
        }
    }

    /// `reply` to a call sent with `extras`: a strict answer mapped back to the schema as written.
    static func restored(_ reply: ModelReply, extras: CallExtras, request: ModelRequest) -> ModelReply {
        guard extras.strictSchema != nil, let original = request.outputSchema?.json, let answer = try? JSONParser.parse(reply.text) else {
            return reply
        }
        var restored = reply
        restored.text = JSONWriter.string(StrictSchema.restore(answer, original: original))
        return restored
    }

    /// The extras a call in an upstream batch carries: those of a live call, but no tier (the
    /// batch is its own).
    func batchExtras(for request: ModelRequest) -> CallExtras {
        var extras = extras(for: request)
        extras.drop(.flexTier)
        return extras
    }

    static func key(_ model: String, _ extra: CallExtras.Extra) -> String { model + "\u{1F}" + extra.rawValue }
}
