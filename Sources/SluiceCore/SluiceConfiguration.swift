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

    public init(
        providers: [ProviderSettings], routes: [ModelRoute] = [], prices: ModelPrices = ModelPrices(),
        webhooks: WebhookSettings = WebhookSettings(), cache: CacheSettings = CacheSettings()
    ) {
        self.webhooks = webhooks
        self.cache = cache
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

    /// Providers from `OPENAI_API_KEY`/`OPENAI_BASE_URL` and `ANTHROPIC_API_KEY`/
    /// `ANTHROPIC_BASE_URL`, for when there is no configuration file.
    public static func fromEnvironment(_ environment: [String: String]) -> SluiceConfiguration {
        var providers: [ProviderSettings] = []
        if environment["OPENAI_API_KEY"]?.isEmpty == false || environment["OPENAI_BASE_URL"]?.isEmpty == false {
            providers.append(
                ProviderSettings(
                    name: "openai", kind: .openai, baseURL: environment["OPENAI_BASE_URL"] ?? ProviderSettings.Kind.openai.defaultBaseURL,
                    apiKeyVariable: "OPENAI_API_KEY", apiKey: environment["OPENAI_API_KEY"]))
        }
        if environment["ANTHROPIC_API_KEY"]?.isEmpty == false {
            providers.append(
                ProviderSettings(
                    name: "anthropic", kind: .anthropic,
                    baseURL: environment["ANTHROPIC_BASE_URL"] ?? ProviderSettings.Kind.anthropic.defaultBaseURL,
                    apiKeyVariable: "ANTHROPIC_API_KEY", apiKey: environment["ANTHROPIC_API_KEY"]))
        }
        let routes = [
            ModelRoute(pattern: "claude-*", provider: "anthropic"), ModelRoute(pattern: "*", provider: providers.first?.name ?? "builtin"),
        ].filter { route in providers.contains { $0.name == route.provider } || route.provider == "builtin" }
        return SluiceConfiguration(providers: providers, routes: routes)
    }

    /// Parses the configuration document (already turned from YAML into JSON).
    public static func parse(_ document: JSONValue, environment: [String: String]) throws(ConfigurationError) -> SluiceConfiguration {
        guard case .object(let root) = document else { throw ConfigurationError(path: "", message: "must be a mapping") }
        try ConfigurationError.refuseUnknown(root, allowed: ["providers", "routes", "prices", "webhooks", "cache"], at: "")
        var providers: [ProviderSettings] = []
        if let list = root["providers"], list != .null {
            guard case .object(let members) = list else {
                throw ConfigurationError(path: "providers", message: "must be a mapping of names")
            }
            for member in members {
                providers.append(try ProviderSettings(name: member.key, member.value, environment: environment))
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
            webhooks: try WebhookSettings.parse(root["webhooks"] ?? .null), cache: try CacheSettings.parse(root["cache"] ?? .null))
    }
}

/// One provider's settings.
public struct ProviderSettings: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case openai
        case anthropic
        case builtin

        public var defaultBaseURL: String {
            switch self {
            case .openai: "https://api.openai.com/v1"
            case .anthropic: "https://api.anthropic.com"
            case .builtin: ""
            }
        }
    }

    public static let builtinName = "builtin"
    public static let builtin = ProviderSettings(name: builtinName, kind: .builtin)

    public var name: String
    public var kind: Kind
    public var baseURL: String
    /// The environment variable holding the key (never the key itself).
    public var apiKeyVariable: String?
    /// The key, read from ``apiKeyVariable``; never logged or shown.
    public var apiKey: String?
    public var headers: [String: String]
    public var limits: RateLimits
    public var timeoutSeconds: Double
    public var defaultModel: String?
    public var breaker: CircuitBreaker.Configuration
    /// A PEM file of certificate authorities to trust for this provider's `https` base URL, on
    /// top of the system's: for a gateway inside a company, signed by the company's own CA.
    public var caFile: String?
    /// Whether a call running four times longer than usual is raced by a second, identical one
    /// (see the engine's `ItemRunner.complete`): off for a provider where paying twice for a
    /// slow call costs more than waiting for a hung one.
    public var hedgesHungCalls: Bool

    public init(
        name: String, kind: Kind, baseURL: String? = nil, apiKeyVariable: String? = nil, apiKey: String? = nil,
        headers: [String: String] = [:], limits: RateLimits = RateLimits(), timeoutSeconds: Double = 120, defaultModel: String? = nil,
        breaker: CircuitBreaker.Configuration = .init(), caFile: String? = nil, hedgesHungCalls: Bool = true
    ) {
        self.caFile = caFile
        self.hedgesHungCalls = hedgesHungCalls
        self.name = name
        self.kind = kind
        self.baseURL = baseURL ?? kind.defaultBaseURL
        self.apiKeyVariable = apiKeyVariable
        self.apiKey = apiKey
        self.headers = headers
        self.limits = limits
        self.timeoutSeconds = timeoutSeconds
        self.defaultModel = defaultModel
        self.breaker = breaker
    }

    /// A remote provider is usable with a key, or with an explicit local base URL that needs none.
    public var isUsable: Bool {
        kind == .builtin || apiKey != nil || (kind == .openai && baseURL != Kind.openai.defaultBaseURL)
    }

    /// The model a spec gets when it names none.
    public var modelWhenUnspecified: String {
        if let defaultModel { return defaultModel }
        switch kind {
        case .builtin: return JobSpec.defaultModel
        case .openai: return "gpt-4o-mini"
        case .anthropic: return "claude-3-5-haiku-latest"
        }
    }

    init(name: String, _ json: JSONValue, environment: [String: String]) throws(ConfigurationError) {
        let path = "providers.\(name)"
        guard case .object(let object) = json else { throw ConfigurationError(path: path, message: "must be a mapping") }
        if object["api_key"] != nil {
            throw ConfigurationError(path: path + ".api_key", message: "keys come from the environment: name the variable with api_key_env")
        }
        try ConfigurationError.refuseUnknown(
            object,
            allowed: [
                "kind", "base_url", "api_key_env", "headers", "limits", "timeout_seconds", "default_model", "circuit_breaker", "ca_file",
                "hedge_hung_calls",
            ],
            at: path)
        guard let kindName = object["kind"]?.stringValue, let kind = Kind(rawValue: kindName) else {
            throw ConfigurationError(path: path + ".kind", message: "must be openai, anthropic or builtin")
        }
        func string(_ key: String) throws(ConfigurationError) -> String? {
            guard let value = object[key], value != .null else { return nil }
            guard let text = value.stringValue else { throw ConfigurationError(path: "\(path).\(key)", message: "must be a string") }
            return text
        }
        func flag(_ key: String) throws(ConfigurationError) -> Bool? {
            guard let value = object[key], value != .null else { return nil }
            guard case .bool(let flag) = value else { throw ConfigurationError(path: "\(path).\(key)", message: "must be true or false") }
            return flag
        }
        func number(_ value: JSONValue?, _ key: String) throws(ConfigurationError) -> Double? {
            guard let value, value != .null else { return nil }
            guard let number = value.doubleValue, number > 0 else {
                throw ConfigurationError(path: "\(path).\(key)", message: "must be a positive number")
            }
            return number
        }
        let variable = try string("api_key_env")
        var headers: [String: String] = [:]
        if let list = object["headers"], list != .null {
            guard case .object(let members) = list else { throw ConfigurationError(path: path + ".headers", message: "must be a mapping") }
            for member in members {
                guard let value = member.value.stringValue else {
                    throw ConfigurationError(path: "\(path).headers.\(member.key)", message: "must be a string")
                }
                headers[member.key] = value
            }
        }
        var limits = RateLimits()
        if let block = object["limits"], block != .null {
            guard case .object(let members) = block else { throw ConfigurationError(path: path + ".limits", message: "must be a mapping") }
            try ConfigurationError.refuseUnknown(members, allowed: ["rpm", "tpm", "concurrency"], at: path + ".limits")
            limits.requestsPerMinute = try number(members["rpm"], "limits.rpm")
            limits.tokensPerMinute = try number(members["tpm"], "limits.tpm")
            limits.maxInFlight = try number(members["concurrency"], "limits.concurrency").map { Int($0) }
        }
        var breaker = CircuitBreaker.Configuration()
        if let block = object["circuit_breaker"], block != .null {
            guard case .object(let members) = block else {
                throw ConfigurationError(path: path + ".circuit_breaker", message: "must be a mapping")
            }
            try ConfigurationError.refuseUnknown(members, allowed: ["failures", "cool_down_seconds"], at: path + ".circuit_breaker")
            breaker = CircuitBreaker.Configuration(
                failureThreshold: try number(members["failures"], "circuit_breaker.failures").map { Int($0) } ?? 5,
                coolDown: try number(members["cool_down_seconds"], "circuit_breaker.cool_down_seconds") ?? 30)
        }
        self.init(
            name: name, kind: kind, baseURL: try string("base_url"), apiKeyVariable: variable,
            apiKey: variable.flatMap { environment[$0] }.flatMap { $0.isEmpty ? nil : $0 }, headers: headers, limits: limits,
            timeoutSeconds: try number(object["timeout_seconds"], "timeout_seconds") ?? 120, defaultModel: try string("default_model"),
            breaker: breaker, caFile: try string("ca_file"), hedgesHungCalls: try flag("hedge_hung_calls") ?? true)
    }
}

/// A model-name pattern (`*` matches any run of characters) and the provider it routes to.
public struct ModelRoute: Sendable, Equatable {
    public var pattern: String
    public var provider: String

    public init(pattern: String, provider: String) {
        self.pattern = pattern
        self.provider = provider
    }

    public func matches(_ model: String) -> Bool {
        let parts = pattern.split(separator: "*", omittingEmptySubsequences: false).map(String.init)
        guard parts.count > 1 else { return pattern == model }
        guard model.hasPrefix(parts[0]), model.hasSuffix(parts[parts.count - 1]),
            model.count >= parts[0].count + parts[parts.count - 1].count
        else { return false }
        var rest = Substring(model.dropFirst(parts[0].count).dropLast(parts[parts.count - 1].count))
        for middle in parts.dropFirst().dropLast() where !middle.isEmpty {
            guard let range = rest.range(of: middle) else { return false }
            rest = rest[range.upperBound...]
        }
        return true
    }
}

/// A configuration that cannot be used, with the path of the offending setting.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }

    static func refuseUnknown(_ object: JSONObject, allowed: Set<String>, at path: String) throws(ConfigurationError) {
        for key in object.keys where !allowed.contains(key) {
            throw ConfigurationError(path: path.isEmpty ? key : "\(path).\(key)", message: "unknown setting")
        }
    }
}

/// Printing settings (logs, test failures, `dump`) never shows the key.
extension ProviderSettings: CustomStringConvertible, CustomReflectable {
    public var description: String {
        "ProviderSettings(name: \(name), kind: \(kind.rawValue), baseURL: \(baseURL), apiKey: \(apiKey == nil ? "none" : "[redacted]"))"
    }

    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "name": name, "kind": kind, "baseURL": baseURL, "apiKeyVariable": apiKeyVariable as Any,
                "apiKey": apiKey == nil ? "none" : "[redacted]", "limits": limits, "timeoutSeconds": timeoutSeconds,
            ])
    }
}
