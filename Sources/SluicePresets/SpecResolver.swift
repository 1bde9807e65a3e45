public import SluiceCore

/// Turns a spec's JSON form into a ``JobSpec`` that this process can run: presets folded in,
/// defaults from the provider configuration, and the provider checked to exist and have its
/// key. The CLI and the HTTP API both submit through it, so they accept the same specs.
public struct SpecResolver: Sendable {
    public let catalog: PresetCatalog
    public let configuration: SluiceConfiguration

    public init(catalog: PresetCatalog, configuration: SluiceConfiguration) {
        self.catalog = catalog
        self.configuration = configuration
    }

    /// The resolved spec, or the reason it cannot run here, in words for the user.
    public func resolve(_ json: JSONValue) throws(SpecError) -> JobSpec {
        let spec = try JobSpec.parse(
            json, preset: catalog.specJSON(named:), defaultProvider: configuration.defaultProvider.name,
            defaultModel: { configuration[$0]?.modelWhenUnspecified ?? JobSpec.defaultModel })
        if spec.budget?.costUSD != nil, configuration.prices.price(forModel: spec.model) == nil {
            throw SpecError(
                field: "budget.cost_usd",
                message:
                    "no price is configured for model '\(spec.model)': add it under prices: in the configuration, or cap tokens instead")
        }
        if spec.provider == JobSpec.routedProvider {
            guard spec.tier != .batch, spec.tier != .auto else {
                throw SpecError(
                    field: "tier", message: "the \(spec.tier.rawValue) tier needs one provider named, whose batch API the job uses")
            }
            return spec
        }
        guard let provider = configuration[spec.provider] else {
            let known = configuration.providers.map(\.name).joined(separator: ", ")
            throw SpecError(field: "provider", message: "provider '\(spec.provider)' is not configured (configured: \(known))")
        }
        guard provider.isUsable else {
            throw SpecError(
                field: "provider",
                message: "provider '\(provider.name)' has no API key: set \(provider.apiKeyVariable ?? "its api_key_env variable")")
        }
        if spec.tier == .batch || spec.tier == .auto, provider.kind == .builtin {
            throw SpecError(
                field: "tier",
                message: "provider '\(provider.name)' is the built-in one, which has no batch API: use an openai or anthropic provider")
        }
        return spec
    }
}
