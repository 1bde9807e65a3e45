import Foundation

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
    /// A key pool (`api_key_envs`): the keys after the first, read from the variables named,
    /// unset ones left out. Each key gets its own limits, learned or told, and its own circuit;
    /// calls go to the key with the most room (see the engine's `Worker`).
    public var moreAPIKeys: [String] = []
    /// Providers that take a call when this one cannot (`fallbacks`, in order): its circuit is
    /// open, it is rate-limited for longer than ``fallbackAfterSeconds``, it answered 5xx, or the
    /// prompt is too long for its model. The call goes to the fallback's `default_model`, if it
    /// has one, else the same model; the result records who answered.
    public var fallbacks: [String] = []
    /// How long a rate-limited provider's calls wait before going to a fallback instead.
    public var fallbackAfterSeconds: Double = 30
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
    /// Whether calls with an output schema ask the provider to enforce it while it generates
    /// (`strict_schemas`, on by default): off for a server that claims the parameter and
    /// mishandles it. A provider or model that refuses it is remembered and asked without it.
    public var strictSchemas: Bool

    public init(
        name: String, kind: Kind, baseURL: String? = nil, apiKeyVariable: String? = nil, apiKey: String? = nil,
        headers: [String: String] = [:], limits: RateLimits = RateLimits(), timeoutSeconds: Double = 120, defaultModel: String? = nil,
        breaker: CircuitBreaker.Configuration = .init(), caFile: String? = nil, hedgesHungCalls: Bool = true, strictSchemas: Bool = true
    ) {
        self.strictSchemas = strictSchemas
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
                "kind", "base_url", "api_key_env", "api_key_envs", "fallbacks", "fallback_after_seconds", "headers", "limits",
                "timeout_seconds", "default_model",
                "circuit_breaker", "ca_file",
                "hedge_hung_calls", "strict_schemas",
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
        var variable = try string("api_key_env")
        var keys: [String] = []
        if let pool = object["api_key_envs"], pool != .null {
            guard variable == nil else {
                throw ConfigurationError(path: path + ".api_key_envs", message: "name the keys with api_key_env or api_key_envs, not both")
            }
            let names = pool.arrayValue ?? []
            let variables = names.compactMap(\.stringValue)
            guard !variables.isEmpty, variables.count == names.count, variables.count <= Self.maximumPoolKeys,
                Set(variables).count == variables.count
            else {
                throw ConfigurationError(
                    path: path + ".api_key_envs",
                    message: "must be a list of 1 to \(Self.maximumPoolKeys) different environment variable names")
            }
            variable = variables[0]
            keys = variables.compactMap { environment[$0] }.filter { !$0.isEmpty }
        }
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
            try ConfigurationError.refuseUnknown(
                members, allowed: ["rpm", "tpm", "concurrency", "batch_queue_tokens", "reserve"], at: path + ".limits")
            limits.requestsPerMinute = try number(members["rpm"], "limits.rpm")
            limits.tokensPerMinute = try number(members["tpm"], "limits.tpm")
            limits.maxInFlight = try number(members["concurrency"], "limits.concurrency").map { Int($0) }
            limits.batchQueueTokens = try number(members["batch_queue_tokens"], "limits.batch_queue_tokens").map { Int($0) }
            if let raw = members["reserve"], raw != .null {
                guard let reserve = raw.doubleValue, reserve >= 0, reserve <= RateLimits.maximumReserve else {
                    throw ConfigurationError(
                        path: path + ".limits.reserve", message: "must be a share from 0 to \(RateLimits.maximumReserve), such as 0.25")
                }
                limits.reserve = reserve
            }
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
            apiKey: keys.first ?? variable.flatMap { environment[$0] }.flatMap { $0.isEmpty ? nil : $0 }, headers: headers, limits: limits,
            timeoutSeconds: try number(object["timeout_seconds"], "timeout_seconds") ?? 120, defaultModel: try string("default_model"),
            breaker: breaker, caFile: try string("ca_file"), hedgesHungCalls: try flag("hedge_hung_calls") ?? true,
            strictSchemas: try flag("strict_schemas") ?? true)
        moreAPIKeys = Array(keys.dropFirst())
        if let list = object["fallbacks"], list != .null {
            let names = (list.arrayValue ?? []).compactMap(\.stringValue)
            guard names.count == list.arrayValue?.count, !names.isEmpty, Set(names).count == names.count, !names.contains(name) else {
                throw ConfigurationError(path: path + ".fallbacks", message: "must be a list of other providers' names, each once")
            }
            fallbacks = names
        }
        fallbackAfterSeconds = try number(object["fallback_after_seconds"], "fallback_after_seconds") ?? 30
    }

    /// The most keys one provider's pool may have.
    public static let maximumPoolKeys = 32
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
