public import SluiceCore

/// The providers' own variable names belong with the providers, not the domain.
extension SluiceConfiguration {
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
}
