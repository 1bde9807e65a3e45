import Foundation
import SluiceCore
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

    /// The registry of providers a configuration describes, sharing one HTTP client.
    public static func registry(for configuration: SluiceConfiguration, http: ProviderHTTPClient) -> ProviderRegistry {
        ProviderRegistry(
            entries: configuration.providers.map { settings in
                ProviderEntry(
                    provider(for: settings, http: http), limits: settings.limits, breaker: settings.breaker,
                    defaultModel: settings.defaultModel)
            }, routes: configuration.routes, defaultProvider: configuration.defaultProvider.name, prices: configuration.prices)
    }

    static func provider(for settings: ProviderSettings, http: ProviderHTTPClient) -> any ModelProvider {
        let endpoint = ProviderEndpoint(
            baseURL: settings.baseURL, apiKey: settings.apiKey,
            extraHeaders: settings.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            timeoutSeconds: settings.timeoutSeconds, http: http)
        switch settings.kind {
        case .builtin: return BuiltinProvider(name: settings.name)
        case .openai: return OpenAICompatibleProvider(name: settings.name, endpoint: endpoint)
        case .anthropic: return AnthropicProvider(name: settings.name, endpoint: endpoint)
        }
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
