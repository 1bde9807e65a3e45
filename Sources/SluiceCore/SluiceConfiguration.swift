import Foundation

/// Where model calls can go and under which limits: the contract's provider configuration,
/// resolved against the environment.
///
/// Keys come from the environment only (`api_key_env`); a key written in the file is refused,
/// so a configuration file can be committed and shared safely.
public struct SluiceConfiguration: Sendable, Equatable {
    public var providers: [ProviderSettings]
    /// Model-name patterns to providers, first match wins (used by the Batch API).
    public var routes: [ModelRoute]
    /// What models cost; the basis of cost budgets.
    public var prices: ModelPrices
    /// How webhooks are delivered.
    public var webhooks: WebhookSettings
    /// Whose calls may answer whom, and for how long.
    public var cache: CacheSettings
    /// How long finished jobs and uploaded files are kept (by default: until deleted).
    public var retention: RetentionSettings

    public init(
        providers: [ProviderSettings], routes: [ModelRoute] = [], prices: ModelPrices = ModelPrices(),
        webhooks: WebhookSettings = WebhookSettings(), cache: CacheSettings = CacheSettings(),
        retention: RetentionSettings = RetentionSettings()
    ) {
        self.webhooks = webhooks
        self.cache = cache
        self.retention = retention
        self.providers = providers.contains { $0.name == ProviderSettings.builtinName } ? providers : providers + [.builtin]
        self.routes = routes
        self.prices = prices
    }

    public subscript(name: String) -> ProviderSettings? { providers.first { $0.name == name } }

    /// The provider a spec that names none uses: the first configured remote one that has a
    /// key (or needs none), otherwise the built-in offline provider.
    public var defaultProvider: ProviderSettings {
        providers.first { $0.kind != .builtin && $0.isUsable } ?? .builtin
    }

    /// The provider a model name routes to.
    public func provider(forModel model: String) -> ProviderSettings? {
        guard let route = routes.first(where: { $0.matches(model) }) else { return nil }
        return self[route.provider]
    }

    /// Parses the configuration document (already turned from YAML into JSON).
    public static func parse(_ document: JSONValue, environment: [String: String]) throws(ConfigurationError) -> SluiceConfiguration {
        guard case .object(let root) = document else { throw ConfigurationError(path: "", message: "must be a mapping") }
        try ConfigurationError.refuseUnknown(root, allowed: ["providers", "routes", "prices", "webhooks", "cache", "retention"], at: "")
        var providers: [ProviderSettings] = []
        if let list = root["providers"], list != .null {
            guard case .object(let members) = list else {
                throw ConfigurationError(path: "providers", message: "must be a mapping of names")
            }
            for member in members {
                guard !member.key.contains("#") else {
                    throw ConfigurationError(
                        path: "providers.\(member.key)",
                        message: "a provider's name may not contain '#' (a key pool's keys are NAME#1, NAME#2, …)")
                }
                providers.append(try ProviderSettings(name: member.key, member.value, environment: environment))
            }
        }
        for provider in providers {
            for fallback in provider.fallbacks
            where fallback != ProviderSettings.builtinName && !providers.contains(where: { $0.name == fallback }) {
                throw ConfigurationError(path: "providers.\(provider.name).fallbacks", message: "names unknown provider '\(fallback)'")
            }
        }
        var routes: [ModelRoute] = []
        if let list = root["routes"], list != .null {
            guard case .array(let entries) = list else { throw ConfigurationError(path: "routes", message: "must be a list") }
            for (index, entry) in entries.enumerated() {
                let path = "routes[\(index)]"
                guard let pattern = entry["model"]?.stringValue, let provider = entry["provider"]?.stringValue else {
                    throw ConfigurationError(path: path, message: "needs \"model\" and \"provider\"")
                }
                guard provider == ProviderSettings.builtinName || providers.contains(where: { $0.name == provider }) else {
                    throw ConfigurationError(path: path, message: "names unknown provider '\(provider)'")
                }
                routes.append(ModelRoute(pattern: pattern, provider: provider))
            }
        }
        return SluiceConfiguration(
            providers: providers, routes: routes, prices: try ModelPrices.parse(root["prices"] ?? .null),
            webhooks: try WebhookSettings.parse(root["webhooks"] ?? .null), cache: try CacheSettings.parse(root["cache"] ?? .null),
            retention: try RetentionSettings.parse(root["retention"] ?? .null))
    }
}
