import Foundation
import SluiceCore
import SluiceProviders
import SluiceTestSupport
import Testing

@Suite struct ProviderCatalogTests {
    @Test func theEnvironmentAloneDefinesOpenAIAndAnthropic() {
        let configuration = SluiceConfiguration.fromEnvironment(["OPENAI_API_KEY": "sk-1", "ANTHROPIC_API_KEY": "ak-1"])
        #expect(configuration.providers.map(\.name) == ["openai", "anthropic", "builtin"])
        #expect(configuration.defaultProvider.name == "openai")
        #expect(configuration.provider(forModel: "claude-3-opus")?.name == "anthropic")
        #expect(configuration.provider(forModel: "llama3")?.name == "openai")
        let local = SluiceConfiguration.fromEnvironment(["OPENAI_BASE_URL": "http://127.0.0.1:11434/v1"])
        #expect(local.defaultProvider.name == "openai", "a local server needs no key")
        let none = SluiceConfiguration.fromEnvironment([:])
        #expect(none.defaultProvider.name == "builtin")
        #expect(none.providers.map(\.name) == ["builtin"])
    }

    @Test func readsAYAMLFileInOrder() async throws {
        let directory = TemporaryDirectory()
        let path = directory.write(
            "sluice.yaml",
            """
            providers:
              zeta:
                kind: openai
                base_url: http://127.0.0.1:9/v1
                limits: {rpm: 600, concurrency: 8}
              alpha:
                kind: anthropic
                api_key_env: ALPHA_KEY
            routes:
              - {model: "claude-*", provider: alpha}
              - {model: "*", provider: zeta}
            """)
        let configuration = try ProviderCatalog.configuration(file: path, environment: ["ALPHA_KEY": "ak-alpha-secret"])
        #expect(configuration.providers.map(\.name) == ["zeta", "alpha", "builtin"], "file order, not alphabetical")
        #expect(configuration["zeta"]?.limits == RateLimits(requestsPerMinute: 600, maxInFlight: 8))
        #expect(configuration["alpha"]?.apiKey == "ak-alpha-secret")
        let http = ProviderHTTPClient()
        let registry = try ProviderCatalog.registry(for: configuration, http: http)
        #expect(registry.names == ["alpha", "builtin", "zeta"])
        #expect(registry["zeta"]?.provider is OpenAICompatibleProvider)
        #expect(registry["alpha"]?.provider is AnthropicProvider)
        #expect(registry["zeta"]?.limits.maxInFlight == 8)
        var dumped = ""
        dump(registry["alpha"]?.provider, to: &dumped)
        #expect(!dumped.contains("ak-alpha-secret") && dumped.contains("[redacted]"), "printing a provider never shows its key")
        try await http.shutdown()
    }

    @Test func jsonIsYAMLToo() throws {
        let directory = TemporaryDirectory()
        let path = directory.write("sluice.json", #"{"providers": {"p": {"kind": "builtin"}}}"#)
        #expect(try ProviderCatalog.configuration(file: path, environment: [:]).providers.map(\.name) == ["p", "builtin"])
    }

    @Test func unreadableAndInvalidFilesAreClearErrors() throws {
        let directory = TemporaryDirectory()
        #expect(throws: ConfigurationError.self) {
            try ProviderCatalog.configuration(file: directory.path("missing.yaml"), environment: [:])
        }
        let broken = directory.write("broken.yaml", "providers: [unclosed\n")
        do {
            _ = try ProviderCatalog.configuration(file: broken, environment: [:])
            Issue.record("expected an error")
        } catch let error as ConfigurationError {
            #expect(error.message.contains("is not valid YAML"))
        }
    }
}
