import Foundation
import NIOSSL
public import SluiceCore
import Yams

/// Turns configuration into live providers, and reads the configuration file.
public enum ProviderCatalog {
    /// Loads `path` (YAML, so JSON too) or, without a file, the providers the environment
    /// defines; either way `builtin` exists.
    public static func configuration(file path: String?, environment: [String: String]) throws -> SluiceConfiguration {
        guard let path else { return .fromEnvironment(environment) }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(path: "", message: "cannot read the configuration file \(path)")
        }
        let document: JSONValue
        do {
            document = try Yams.compose(yaml: text).map(json(from:)) ?? .null
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw ConfigurationError(path: "", message: "\(path) is not valid YAML: \(error)")
        }
        return try SluiceConfiguration.parse(document, environment: environment)
    }

    /// The registry of providers a configuration describes, sharing one HTTP client. Throws when
    /// a provider's `ca_file` cannot be read as PEM certificates.
    public static func registry(for configuration: SluiceConfiguration, http: ProviderHTTPClient) throws(ConfigurationError)
        -> ProviderRegistry
    {
        var entries: [ProviderEntry] = []
        for settings in configuration.providers {
            let entry = { (settings: ProviderSettings) throws(ConfigurationError) in
                var entry = ProviderEntry(
                    try provider(for: settings, http: http), limits: settings.limits, breaker: settings.breaker,
                    defaultModel: settings.defaultModel, hedgesHungCalls: settings.hedgesHungCalls)
                entry.fallbacks = settings.fallbacks
                entry.fallbackAfterSeconds = settings.fallbackAfterSeconds
                return entry
            }
            var pool = try entry(settings)
            // A key pool: one entry per key, each with the provider's limits as its own.
            if !settings.moreAPIKeys.isEmpty, let first = settings.apiKey {
                for (index, key) in ([first] + settings.moreAPIKeys).enumerated() {
                    var keyed = settings
                    keyed.name = Self.keyName(settings.name, index)
                    keyed.apiKey = key
                    keyed.moreAPIKeys = []
                    var member = try entry(keyed)
                    member.pool = settings.name
                    entries.append(member)
                    pool.keys.append(keyed.name)
                }
            }
            entries.append(pool)
        }
        return ProviderRegistry(
            entries: entries, routes: configuration.routes, defaultProvider: configuration.defaultProvider.name,
            prices: configuration.prices, cache: configuration.cache)
    }

    /// The name of a pool's key number `index` (from 0): `NAME#1`, `NAME#2`, …
    public static func keyName(_ provider: String, _ index: Int) -> String { "\(provider)#\(index + 1)" }

    static func provider(for settings: ProviderSettings, http: ProviderHTTPClient) throws(ConfigurationError) -> any ModelProvider {
        let endpoint = ProviderEndpoint(
            baseURL: settings.baseURL, apiKey: settings.apiKey,
            extraHeaders: settings.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            timeoutSeconds: settings.timeoutSeconds, http: http, tls: try trust(settings))
        switch settings.kind {
        case .builtin: return BuiltinProvider(name: settings.name)
        case .openai: return OpenAICompatibleProvider(name: settings.name, endpoint: endpoint, strictSchemas: settings.strictSchemas)
        case .anthropic: return AnthropicProvider(name: settings.name, endpoint: endpoint, strictSchemas: settings.strictSchemas)
        }
    }

    /// The TLS settings for a provider with its own `ca_file`: the system's roots and the file's.
    static func trust(_ settings: ProviderSettings) throws(ConfigurationError) -> TLSConfiguration? {
        guard let file = settings.caFile else { return nil }
        let authorities: [NIOSSLCertificate]
        do {
            authorities = try NIOSSLCertificate.fromPEMFile(file)
        } catch {
            throw ConfigurationError(
                path: "providers.\(settings.name).ca_file", message: "cannot read PEM certificates from \(file): \(error)")
        }
        guard !authorities.isEmpty else {
            throw ConfigurationError(path: "providers.\(settings.name).ca_file", message: "\(file) holds no PEM certificate")
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.additionalTrustRoots = [.certificates(authorities)]
        return tls
    }

    /// A YAML node as JSON, keeping mapping order (the first provider listed is the default).
    static func json(from node: Node) throws -> JSONValue {
        switch node {
        case .scalar(let scalar):
            if scalar.style == .plain {
                if node.null != nil { return .null }
                if let flag = node.bool { return .bool(flag) }
                if let number = node.int { return .int(number) }
                if let number = node.float { return .double(number) }
            }
            return .string(scalar.string)
        case .sequence(let sequence):
            return .array(try sequence.map(json(from:)))
        case .mapping(let mapping):
            return .object(
                JSONObject(
                    try mapping.map { key, value in
                        guard let name = key.string else { throw ConfigurationError(path: "", message: "mapping keys must be strings") }
                        return (name, try json(from: value))
                    }))
        case .alias:
            throw ConfigurationError(path: "", message: "YAML aliases are not supported")
        }
    }
}
