import Testing

@testable import SluiceCore

@Suite struct ConfigurationTests {
    let environment = ["OPENAI_API_KEY": "sk-env", "TEAM_KEY": "sk-team"]

    @Test func fallbacksAndKeyPoolsAreRead() throws {
        let document: JSONValue = [
            "providers": [
                "main": ["kind": "openai", "api_key_envs": ["K1", "K2"], "fallbacks": ["spare", "builtin"], "fallback_after_seconds": 5],
                "spare": ["kind": "anthropic", "api_key_env": "K3", "default_model": "claude-x"],
            ]
        ]
        let configuration = try SluiceConfiguration.parse(document, environment: ["K1": "sk-1", "K2": "sk-2", "K3": "sk-3"])
        let main = try #require(configuration["main"])
        #expect(main.apiKey == "sk-1" && main.moreAPIKeys == ["sk-2"] && main.fallbacks == ["spare", "builtin"])
        #expect(main.fallbackAfterSeconds == 5 && configuration["spare"]?.fallbackAfterSeconds == 30)
    }

    @Test func retentionIsReadAndKeepsEverythingByDefault() throws {
        let configuration = try SluiceConfiguration.parse(["retention": ["jobs": "30d", "files": "12h"]], environment: [:])
        #expect(configuration.retention == RetentionSettings(jobsSeconds: 30 * 86_400, filesSeconds: 12 * 3_600))
        #expect(try SluiceConfiguration.parse([:], environment: [:]).retention == RetentionSettings())
    }

    @Test func webhookSettingsAreRead() throws {
        let configuration = try SluiceConfiguration.parse(
            ["webhooks": ["allow_private_targets": true, "retry_seconds": [1, 2.5], "timeout_seconds": 4]], environment: [:])
        #expect(configuration.webhooks == WebhookSettings(allowPrivateTargets: true, retrySeconds: [1, 2.5], timeoutSeconds: 4))
        #expect(configuration.webhooks.delay(afterAttempt: 2) == 2.5)
        #expect(configuration.webhooks.delay(afterAttempt: 3) == nil, "its tries are spent")
        let defaults = try SluiceConfiguration.parse([:], environment: [:]).webhooks
        #expect(!defaults.allowPrivateTargets && defaults.retrySeconds == WebhookSettings.defaultRetrySeconds)
    }

    @Test func aFileDefinesProvidersLimitsAndRoutes() throws {
        let document: JSONValue = [
            "providers": [
                "team": [
                    "kind": "openai", "base_url": "https://llm.example/v1", "api_key_env": "TEAM_KEY", "headers": ["X-Org": "7"],
                    "limits": ["rpm": 500, "tpm": 200_000, "concurrency": 32, "reserve": 0.25], "timeout_seconds": 30,
                    "default_model": "m1",
                    "circuit_breaker": ["failures": 3, "cool_down_seconds": 10],
                ],
                "claude": ["kind": "anthropic", "api_key_env": "MISSING_KEY", "hedge_hung_calls": false, "strict_schemas": false],
            ],
            "routes": [["model": "claude-*", "provider": "claude"], ["model": "*", "provider": "team"]],
        ]
        let configuration = try SluiceConfiguration.parse(document, environment: environment)
        #expect(configuration.providers.map(\.name) == ["team", "claude", "builtin"])
        let team = try #require(configuration["team"])
        #expect(team.apiKey == "sk-team")
        #expect(team.limits == RateLimits(requestsPerMinute: 500, tokensPerMinute: 200_000, maxInFlight: 32, reserve: 0.25))
        #expect(team.breaker == .init(failureThreshold: 3, coolDown: 10))
        #expect(team.headers == ["X-Org": "7"])
        #expect(team.timeoutSeconds == 30)
        #expect(team.modelWhenUnspecified == "m1")
        #expect(configuration["claude"]?.apiKey == nil)
        #expect(configuration["claude"]?.isUsable == false)
        #expect(team.hedgesHungCalls && configuration["claude"]?.hedgesHungCalls == false)
        #expect(team.strictSchemas && configuration["claude"]?.strictSchemas == false)
        #expect(configuration["claude"]?.baseURL == "https://api.anthropic.com")
        #expect(configuration.defaultProvider.name == "team")
        #expect(configuration.provider(forModel: "claude-3-5-haiku")?.name == "claude")
        #expect(configuration.provider(forModel: "gpt-4o")?.name == "team")
    }

    @Test(
        arguments: [
            (["providers": ["p": ["kind": "openai", "api_key": "sk-inline"]]], "providers.p.api_key"),
            (["providers": ["p": ["kind": "mystery"]]], "providers.p.kind"),
            (["providers": ["p": ["kind": "openai", "limits": ["rpm": -1]]]], "providers.p.limits.rpm"),
            (["providers": ["p": ["kind": "openai", "limits": ["rps": 1]]]], "providers.p.limits.rps"),
            (["providers": ["p": ["kind": "openai", "limits": ["reserve": 0.95]]]], "providers.p.limits.reserve"),
            (["providers": ["p": ["kind": "openai", "limits": ["reserve": "a quarter"]]]], "providers.p.limits.reserve"),
            (["providers": ["p": ["kind": "openai", "colour": "red"]]], "providers.p.colour"),
            (["providers": ["p": ["kind": "openai", "hedge_hung_calls": "no"]]], "providers.p.hedge_hung_calls"),
            (["providers": ["p": ["kind": "openai", "strict_schemas": 1]]], "providers.p.strict_schemas"),
            (["routes": [["model": "*", "provider": "ghost"]]], "routes[0]"),
            (["extra": 1], "extra"),
            (["prices": [1]], "prices"),
            (["prices": ["gpt-*": ["input_per_million": 1]]], "prices.gpt-*"),
            (["prices": ["gpt-*": ["input_per_million": -1, "output_per_million": 1]]], "prices.gpt-*"),
            (["prices": ["gpt-*": ["input_per_million": 1, "output_per_million": 1, "currency": "EUR"]]], "prices.gpt-*.currency"),
            (["webhooks": ["allow_private_targets": "yes"]], "webhooks.allow_private_targets"),
            (["webhooks": ["retry_seconds": [5, -1]]], "webhooks.retry_seconds"),
            (["webhooks": ["retry_seconds": "5s"]], "webhooks.retry_seconds"),
            (["webhooks": ["timeout_seconds": 0]], "webhooks.timeout_seconds"),
            (["webhooks": ["secret": "x"]], "webhooks.secret"),
            (["webhooks": [1]], "webhooks"),
            (["retention": ["jobs": "30 days"]], "retention.jobs"),
            (["providers": ["p": ["kind": "openai", "fallbacks": ["ghost"]]]], "providers.p.fallbacks"),
            (["providers": ["p": ["kind": "openai", "fallbacks": ["p"]]]], "providers.p.fallbacks"),
            (["providers": ["p#1": ["kind": "openai"]]], "providers.p#1"),
            (["providers": ["p": ["kind": "openai", "api_key_envs": []]]], "providers.p.api_key_envs"),
            (["providers": ["p": ["kind": "openai", "api_key_envs": ["A", "A"]]]], "providers.p.api_key_envs"),
            (["providers": ["p": ["kind": "openai", "api_key_env": "A", "api_key_envs": ["B"]]]], "providers.p.api_key_envs"),
            (["retention": ["files": "10m"]], "retention.files"),
            (["retention": ["items": "30d"]], "retention.items"),
        ] as [(JSONValue, String)])
    func refusesBadSettingsNamingThem(document: JSONValue, path: String) {
        #expect(throws: ConfigurationError.self) { try SluiceConfiguration.parse(document, environment: [:]) }
        do {
            _ = try SluiceConfiguration.parse(document, environment: [:])
        } catch {
            #expect(error.path == path)
        }
    }

    @Test func pricesCostCallsByTheFirstMatchingModelPattern() throws {
        let configuration = try SluiceConfiguration.parse(
            [
                "prices": [
                    "gpt-4o-mini": ["input_per_million": 0.15, "output_per_million": 0.6],
                    "gpt-*": ["input_per_million": 5, "output_per_million": 15],
                ]
            ],
            environment: [:])
        let usage = TokenUsage(promptTokens: 1_000_000, completionTokens: 500_000)
        #expect(configuration.prices.costMicros(model: "gpt-4o-mini", usage: usage) == 450_000)
        #expect(configuration.prices.costMicros(model: "gpt-4o", usage: usage) == 12_500_000)
        #expect(configuration.prices.costMicros(model: "claude-3", usage: usage) == 0, "an unpriced model costs nothing here")
    }

    @Test func cachedAndCacheWrittenTokensCostTheirOwnRates() throws {
        let configuration = try SluiceConfiguration.parse(
            [
                "prices": [
                    "claude-*": [
                        "input_per_million": 3, "output_per_million": 15, "cached_input_per_million": 0.3, "cache_write_per_million": 3.75,
                    ],
                    "gpt-*": ["input_per_million": 2, "output_per_million": 8],
                ]
            ],
            environment: [:])
        // 1M prompt tokens: 600k read from the cache, 100k written to it, 300k neither.
        let usage = TokenUsage(promptTokens: 1_000_000, completionTokens: 0, cachedTokens: 600_000, cacheWriteTokens: 100_000)
        #expect(configuration.prices.costMicros(model: "claude-x", usage: usage) == 900_000 + 180_000 + 375_000)
        #expect(configuration.prices.costMicros(model: "gpt-x", usage: usage) == 2_000_000, "no cached rate: the input rate")
        #expect(throws: ConfigurationError.self) {
            try SluiceConfiguration.parse(
                ["prices": ["m": ["input_per_million": 1, "output_per_million": 1, "cached_input_per_million": "cheap"]]], environment: [:])
        }
    }

    @Test(arguments: [
        ("claude-*", "claude-3-haiku", true), ("claude-*", "gpt-4o", false), ("*", "anything", true), ("gpt-4o", "gpt-4o", true),
        ("gpt-*-mini", "gpt-4o-mini", true), ("gpt-*-mini", "gpt-4o", false), ("*-instruct", "llama-3-instruct", true),
    ])
    func routesMatchGlobs(pattern: String, model: String, matches: Bool) {
        #expect(ModelRoute(pattern: pattern, provider: "p").matches(model) == matches)
    }

    @Test func specsTakeTheConfiguredDefaultProviderAndModel() throws {
        let spec = try JobSpec.parse(
            ["template": "{{a}}"], preset: { _ in nil }, defaultProvider: "openai", defaultModel: { "\($0)-default" })
        #expect(spec.provider == "openai")
        #expect(spec.model == "openai-default")
        let explicit = try JobSpec.parse(["template": "{{a}}", "provider": "builtin"], preset: { _ in nil }, defaultProvider: "openai")
        #expect(explicit.provider == "builtin")
    }
}

@Suite struct SecretTests {
    @Test func printingSettingsNeverShowsTheKey() {
        let settings = ProviderSettings(name: "p", kind: .openai, apiKeyVariable: "K", apiKey: "sk-very-secret")
        var dumped = ""
        dump(settings, to: &dumped)
        for text in [String(describing: settings), String(reflecting: settings), dumped, "\(settings)"] {
            #expect(!text.contains("sk-very-secret"))
        }
    }
}
