import ArgumentParser
import Foundation
import SluiceCore
import SluiceProviders

/// The options every command that runs work takes to choose providers and their limits.
struct ProviderOptions: ParsableArguments {
    @Option(
        help: "Provider configuration file (YAML or JSON); default: $SLUICE_CONFIG, else providers from OPENAI_*/ANTHROPIC_* variables.")
    var config: String?

    @Option(help: "Requests per minute for the job's provider (overrides the configuration).")
    var rpm: Double?

    @Option(help: "Tokens per minute for the job's provider (overrides the configuration).")
    var tpm: Double?

    @Option(name: .customLong("max-in-flight"), help: "Calls in flight at once to the job's provider.")
    var maxInFlight: Int?

    func validate() throws {
        for (name, value) in [("--rpm", rpm), ("--tpm", tpm)] where value.map({ $0 <= 0 }) == true {
            throw ValidationError("\(name) must be positive")
        }
        if let maxInFlight, maxInFlight < 1 { throw ValidationError("--max-in-flight must be at least 1") }
    }

    /// The configuration from file or environment, with this command line's limits applied to
    /// `provider` (when given).
    func configuration(applyingLimitsTo provider: String? = nil) throws -> SluiceConfiguration {
        let environment = ProcessInfo.processInfo.environment
        var configuration: SluiceConfiguration
        do {
            configuration = try ProviderCatalog.configuration(file: config ?? environment["SLUICE_CONFIG"], environment: environment)
        } catch {
            throw ValidationError("configuration: \(error)")
        }
        if let provider, let index = configuration.providers.firstIndex(where: { $0.name == provider }) {
            if let rpm { configuration.providers[index].limits.requestsPerMinute = rpm }
            if let tpm { configuration.providers[index].limits.tokensPerMinute = tpm }
            if let maxInFlight { configuration.providers[index].limits.maxInFlight = maxInFlight }
        }
        return configuration
    }
}
