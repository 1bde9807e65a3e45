public import SluiceCore

/// What a call may carry beyond its messages that not every server or model takes: a strict
/// schema to enforce, a prompt cache key, a prompt cache marker. See ``ExtraParameters``.
struct CallExtras: Sendable, Equatable {
    enum Extra: String, Sendable, CaseIterable {
        case strictSchema = "strict schema"
        case promptCacheKey = "prompt cache key"
        case cacheControl = "prompt cache marker"
        case flexTier = "flex tier"

        /// The parameter names a provider's refusal of this extra mentions.
        var parameters: [String] {
            switch self {
            case .strictSchema: ["response_format", "json_schema", "output_format"]
            case .promptCacheKey: ["prompt_cache_key"]
            case .cacheControl: ["cache_control", "ttl"]
            case .flexTier: ["service_tier"]
            }
        }
    }

    /// The output schema in its strict form (``StrictSchema``), to be enforced by the provider.
    var strictSchema: JSONValue?
    /// Routes calls sharing a prompt prefix to the same cache (OpenAI's `prompt_cache_key`).
    var promptCacheKey: String?
    /// Marks the shared prefix for caching, kept this long (Anthropic's `cache_control` TTL).
    var cacheTTL: String?
    /// Asks for the flex tier (`service_tier: "flex"`).
    var flexTier = false

    func carries(_ extra: Extra) -> Bool {
        switch extra {
        case .strictSchema: strictSchema != nil
        case .promptCacheKey: promptCacheKey != nil
        case .cacheControl: cacheTTL != nil
        case .flexTier: flexTier
        }
    }

    /// Carries what either carries (which extras a set of calls holds between them).
    mutating func merge(_ other: CallExtras) {
        strictSchema = strictSchema ?? other.strictSchema
        promptCacheKey = promptCacheKey ?? other.promptCacheKey
        cacheTTL = cacheTTL ?? other.cacheTTL
        flexTier = flexTier || other.flexTier
    }

    mutating func drop(_ extra: Extra) {
        switch extra {
        case .strictSchema: strictSchema = nil
        case .promptCacheKey: promptCacheKey = nil
        case .cacheControl: cacheTTL = nil
        case .flexTier: flexTier = false
        }
    }
}
