import Foundation
import NIOSSL
import SluiceCore
import SluiceFakeProvider
import SluiceProviders
import SluiceTestSupport
import SluiceWire
import Testing

/// The HTTP providers against the fake over real loopback HTTP: wire shapes, and every
/// outcome class.
@Suite struct ProviderHTTPTests {
    /// A request as the engine builds it: the schema instruction is in the system prompt.
    let request = try! PromptBuilder(
        spec: JobSpec.parse(
            [
                "template": "Rate: {{text}}", "system": "Be brief.", "model": "gpt-test", "params": ["temperature": 0, "max_tokens": 50],
                "output_schema": [
                    "type": "object", "required": ["score"], "properties": ["score": ["type": "integer", "minimum": 1, "maximum": 5]],
                ],
            ], preset: { _ in nil })
    ).request(for: JSONObject([("text", "great service")]))

    func openAI(_ fake: FakeProviderServer, _ http: ProviderHTTPClient, key: String? = "sk-test-secret-key", timeout: Double = 10)
        -> OpenAICompatibleProvider
    {
        OpenAICompatibleProvider(
            name: "openai",
            endpoint: ProviderEndpoint(
                baseURL: fake.baseURL + "/v1", apiKey: key, extraHeaders: [("X-Team", "qa")], timeoutSeconds: timeout, http: http))
    }

    /// The call's result, keeping the typed failure.
    func outcome(_ provider: some ModelProvider, _ request: ModelRequest) async -> Result<ModelReply, ProviderFailure> {
        do throws(ProviderFailure) {
            return .success(try await provider.complete(request))
        } catch {
            return .failure(error)
        }
    }

    @Test func aProviderOverHTTPSIsTrustedThroughItsCAFileAndOnlyThen() async throws {
        let directory = TemporaryDirectory()
        let certificate = try await SelfSignedCertificate(in: directory)
        let serving = try NIOSSLContext(
            configuration: .makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(certificate.certificate).map { .certificate($0) },
                privateKey: .file(certificate.key)))
        try await withFakeProvider(tls: serving) { fake, http in
            #expect(fake.baseURL.hasPrefix("https://"))
            func provider(caFile: String?) throws -> any ModelProvider {
                let settings = ProviderSettings(
                    name: "gateway", kind: .openai, baseURL: fake.baseURL + "/v1", apiKey: "sk-test", caFile: caFile)
                return try #require(try ProviderCatalog.registry(for: SluiceConfiguration(providers: [settings]), http: http)["gateway"])
                    .provider
            }
            let trusted = await outcome(try provider(caFile: certificate.certificate), request)
            #expect(try JSONParser.parse(trusted.get().text)["score"]?.intValue != nil)
            // Without the authority the certificate is refused, and nothing reached the fake's handler.
            let before = fake.counters.received
            guard case .failure(.transient(let message)) = await outcome(try provider(caFile: nil), request) else {
                Issue.record("an untrusted certificate was accepted")
                return
            }
            #expect(message.lowercased().contains("certificate") || message.lowercased().contains("handshake"), "\(message)")
            #expect(fake.counters.received == before)
            // A file that holds no certificate is a configuration error naming the setting.
            let empty = directory.write("empty.pem", "")
            #expect {
                _ = try provider(caFile: empty)
            } throws: { ($0 as? ConfigurationError)?.path == "providers.gateway.ca_file" }
        }
    }

    @Test func openAIRequestAndReplyShapes() async throws {
        try await withFakeProvider { fake, http in
            let reply = try await openAI(fake, http).complete(request)
            #expect(try JSONParser.parse(reply.text)["score"]?.intValue != nil)
            #expect(reply.usage.promptTokens > 0 && reply.usage.completionTokens > 0)
            #expect(reply.model == "gpt-test")
            let sent = try #require(fake.recentRequests.last)
            #expect(sent.path == "/v1/chat/completions")
            #expect(sent.headers["authorization"] == "Bearer sk-test-secret-key")
            #expect(sent.headers["x-team"] == "qa")
            #expect(sent.body?["response_format"]?["type"] == "json_schema")
            #expect(sent.body?["response_format"]?["json_schema"]?["strict"] == true)
            #expect(sent.body?["response_format"]?["json_schema"]?["schema"]?["additionalProperties"] == false)
            #expect(sent.body?["messages"]?.arrayValue?.map { $0["role"] } == ["system", "user"])
            #expect(sent.body?["temperature"] == 0 && sent.body?["max_tokens"] == 50)
            #expect(reply.signal == nil || reply.signal?.requests == nil, "no limit configured, no limit headers")
        }
    }

    @Test func anthropicRequestAndReplyShapes() async throws {
        try await withFakeProvider { fake, http in
            let provider = AnthropicProvider(
                name: "anthropic", endpoint: ProviderEndpoint(baseURL: fake.baseURL + "/v1", apiKey: "ak-secret", http: http))
            var corrected = request
            corrected.messages.append(ChatMessage(role: .user, content: "Your previous reply was rejected."))
            let reply = try await provider.complete(corrected)
            #expect(try JSONParser.parse(reply.text)["score"] != nil)
            let sent = try #require(fake.recentRequests.last)
            #expect(sent.path == "/v1/messages")
            #expect(sent.headers["x-api-key"] == "ak-secret")
            #expect(sent.headers["anthropic-version"] == "2023-06-01")
            #expect(sent.headers["anthropic-beta"] == "structured-outputs-2025-11-13")
            #expect(sent.body?["output_format"]?["type"] == "json_schema")
            #expect(sent.body?["output_format"]?["schema"]?["required"] == ["score"])
            let system = try #require(sent.body?["system"]?.arrayValue?.first, "the system prompt as a block, marked for the cache")
            #expect(system["text"]?.stringValue?.hasPrefix("Be brief.\n\nReply with only a JSON value") == true)
            #expect(system["cache_control"] == ["type": "ephemeral"])
            #expect(sent.body?["max_tokens"] == 50)
            let messages = try #require(sent.body?["messages"]?.arrayValue)
            #expect(messages.count == 1, "consecutive user turns are joined")
            #expect(messages[0]["content"]?.stringValue?.hasSuffix("\n\nYour previous reply was rejected.") == true)
        }
    }

    /// A row's photos over real HTTP: OpenAI gets `image_url` parts, Anthropic `image` blocks;
    /// an image over Anthropic's inline limit fails the call with the reason, and is never sent.
    @Test func imagesReachEachVendorInItsOwnShape() async throws {
        let png: [UInt8] =
            [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8) + [0, 0, 0, 2, 0, 0, 0, 1, 8, 2, 0, 0, 0]
        let probe = ImageProbe(format: .png, width: 2, height: 1)
        var photos = request
        photos.messages[0].parts += [
            .image(ImagePart(source: .url("https://shop.test/a.jpg"), detail: "low")), .image(ImagePart(source: .inline(probe, png))),
        ]
        try await withFakeProvider { fake, http in
            _ = try await openAI(fake, http).complete(photos)
            let sentToOpenAI = try #require(fake.recentRequests.last?.body?["messages"]?.arrayValue?.last?["content"]?.arrayValue)
            #expect(sentToOpenAI.map { $0["type"] } == ["text", "image_url", "image_url"])
            #expect(sentToOpenAI[1]["image_url"] == ["url": "https://shop.test/a.jpg", "detail": "low"])
            #expect(sentToOpenAI[2]["image_url"]?["url"]?.stringValue?.hasPrefix("data:image/png;base64,iVBORw0KGgo") == true)

            let anthropic = AnthropicProvider(
                name: "anthropic", endpoint: ProviderEndpoint(baseURL: fake.baseURL + "/v1", apiKey: "ak", http: http))
            _ = try await anthropic.complete(photos)
            let sentToAnthropic = try #require(fake.recentRequests.last?.body?["messages"]?.arrayValue?.last?["content"]?.arrayValue)
            #expect(sentToAnthropic.map { $0["type"] } == ["text", "image", "image"])
            #expect(sentToAnthropic[1]["source"] == ["type": "url", "url": "https://shop.test/a.jpg"])
            #expect(sentToAnthropic[2]["source"]?["media_type"] == "image/png")

            var huge = request
            huge.messages[0].parts.append(.image(ImagePart(source: .inline(probe, png + Array(repeating: 0, count: 6 << 20)))))
            let before = fake.counters.received
            guard case .failure(.rejected(let reason)) = await outcome(anthropic, huge) else {
                Issue.record("an image over 5 MB was sent to Anthropic")
                return
            }
            #expect(reason == "the image is 6 MB, over the 5 MB Anthropic takes inline")
            #expect(fake.counters.received == before, "nothing sent")
        }
    }

    /// Tools over real HTTP in each vendor's shape — OpenAI's `function` tools, `tool_choice` and
    /// `parallel_tool_calls`; Anthropic's `input_schema`, a `tool` choice with parallel calls
    /// off — a conversation's earlier call and its result written as each API wants them, and
    /// the reply's call read back with its arguments.
    @Test func toolsReachEachVendorInItsOwnShapeAndTheirCallsComeBack() async throws {
        var asked = try PromptBuilder(
            spec: JobSpec.parse(
                [
                    "template": "Read: {{text}}", "model": "gpt-test",
                    "tools": [
                        [
                            "name": "record", "description": "Records it.",
                            "parameters": ["type": "object", "properties": ["name": ["type": "string"]], "required": ["name"]],
                        ]
                    ],
                ], preset: { _ in nil })
        ).request(for: JSONObject([("text", "a mug")]))
        let earlier = ToolCall(id: "call_1", name: "record", arguments: #"{"name":"cup"}"#)
        asked.messages.insert(
            contentsOf: [
                ChatMessage(role: .user, content: "Read: a cup"), ChatMessage(role: .assistant, parts: [.toolCall(earlier)]),
                ChatMessage(role: .tool, parts: [.toolResult(callID: "call_1", text: "recorded", isError: false)]),
            ], at: 0)
        try await withFakeProvider { fake, http in
            let openAIReply = try await openAI(fake, http).complete(asked)
            let toOpenAI = try #require(fake.recentRequests.last?.body)
            let offered = toOpenAI["tools"]?.arrayValue?.first
            #expect(offered?["type"] == "function" && offered?["function"]?["name"] == "record")
            #expect(toOpenAI["tool_choice"] == ["type": "function", "function": ["name": "record"]])
            #expect(toOpenAI["parallel_tool_calls"] == false)
            #expect(toOpenAI["response_format"] == nil)
            let openAIMessages = try #require(toOpenAI["messages"]?.arrayValue)
            #expect(openAIMessages.map { $0["role"] } == ["user", "assistant", "tool", "user"])
            #expect(openAIMessages[1]["tool_calls"]?.arrayValue?.first?["function"]?["arguments"] == #"{"name":"cup"}"#)
            #expect(openAIMessages[2]["tool_call_id"] == "call_1" && openAIMessages[2]["content"] == "recorded")
            #expect(openAIReply.toolCalls.map(\.name) == ["record"])
            #expect(try JSONParser.parse(openAIReply.toolCalls[0].arguments)["name"]?.stringValue != nil)
            #expect(openAIReply.finishReason == "tool_calls")

            let anthropic = AnthropicProvider(
                name: "anthropic", endpoint: ProviderEndpoint(baseURL: fake.baseURL + "/v1", apiKey: "ak", http: http))
            let anthropicReply = try await anthropic.complete(asked)
            let toAnthropic = try #require(fake.recentRequests.last?.body)
            #expect(toAnthropic["tools"]?.arrayValue?.first?["input_schema"]?["required"] == ["name"])
            #expect(toAnthropic["tool_choice"] == ["type": "tool", "name": "record", "disable_parallel_tool_use": true])
            let turns = try #require(toAnthropic["messages"]?.arrayValue)
            #expect(turns.map { $0["role"] } == ["user", "assistant", "user"], "the result and the next prompt are one user turn")
            let call: JSONValue = ["type": "tool_use", "id": "call_1", "name": "record", "input": ["name": "cup"]]
            #expect(turns[1]["content"]?.arrayValue?.first == call)
            #expect(turns[2]["content"]?.arrayValue?.first == ["type": "tool_result", "tool_use_id": "call_1", "content": "recorded"])
            #expect(anthropicReply.toolCalls.map(\.name) == ["record"] && anthropicReply.finishReason == "tool_use")

            // Arguments that are no JSON object have no Anthropic form: refused, never sent.
            var broken = asked
            broken.messages[1] = ChatMessage(role: .assistant, parts: [.toolCall(ToolCall(id: "call_1", name: "record", arguments: "[1]"))])
            let before = fake.counters.received
            guard case .failure(.rejected(let reason)) = await outcome(anthropic, broken) else {
                Issue.record("arguments that are no object were sent to Anthropic")
                return
            }
            #expect(reason == "tool call call_1's arguments are not a JSON object, which Anthropic's tool_use input must be")
            #expect(fake.counters.received == before)
        }
    }

    /// A schema with an optional field: strict mode makes it required and nullable, and the
    /// `null` a model gives for it is gone again from the reply the engine validates.
    let optionalField = try! PromptBuilder(
        spec: JobSpec.parse(
            [
                "template": "Rate: {{text}}", "model": "gpt-test",
                "output_schema": [
                    "type": "object", "required": ["score"],
                    "properties": [
                        "score": ["type": "integer", "minimum": 1, "maximum": 5], "reason": ["type": "string", "maxLength": 400],
                    ],
                ],
            ], preset: { _ in nil })
    ).request(for: JSONObject([("text", "fine")]))

    @Test func aStrictSchemaMakesOptionalFieldsNullableAndTheReplyDropsTheirNulls() async throws {
        try await withFakeProvider { fake, http in
            let reply = try await openAI(fake, http).complete(optionalField)
            let schema = try #require(fake.recentRequests.last?.body?["response_format"]?["json_schema"]?["schema"])
            #expect(schema["required"] == ["score", "reason"])
            #expect(schema["properties"]?["reason"] == ["type": ["string", "null"]], "maxLength is not strict mode's; Sluice checks it")
            let answer = try JSONParser.parse(reply.text)
            #expect(optionalField.outputSchema?.validate(answer) == [], "\(answer)")
        }
        #expect(
            StrictSchema.restore(["score": 3, "reason": nil], original: try #require(optionalField.outputSchema?.json)) == ["score": 3])
        #expect(StrictSchema.strict(["type": "object"]) == nil, "an object with its fields open has no strict form")
        #expect(StrictSchema.strict(["type": "array", "items": ["type": "string"]]) == nil, "strict mode wants an object at the root")
    }

    @Test func aModelThatRefusesStrictSchemasIsAskedAgainWithoutAndRemembered() async throws {
        var behaviour = FakeProviderBehaviour()
        behaviour.refusesStrictSchemas = true
        try await withFakeProvider(behaviour) { fake, http in
            let provider = openAI(fake, http)
            let reply = try await provider.complete(request)
            #expect(try JSONParser.parse(reply.text)["score"]?.intValue != nil, "the item loses nothing")
            #expect(fake.counters.strictSchemaRequests == 1 && fake.counters.received == 2)
            #expect(fake.recentRequests.last?.body?["response_format"] == ["type": "json_object"])
            _ = try await provider.complete(request)
            #expect(fake.counters.received == 3 && fake.counters.strictSchemaRequests == 1, "the refusal is remembered for the model")
            let anthropic = AnthropicProvider(
                name: "anthropic", endpoint: ProviderEndpoint(baseURL: fake.baseURL, apiKey: nil, http: http), strictSchemas: false)
            _ = try await anthropic.complete(request)
            #expect(fake.recentRequests.last?.body?["output_format"] == nil, "strict_schemas: false asks for none")
            #expect(fake.recentRequests.last?.headers["anthropic-beta"] == nil)
        }
    }

    @Test func aSharedPrefixIsCachedAndItsTokensAreReportedByKind() async throws {
        var shared = request
        shared.system = String(repeating: "Rules every row shares. ", count: 200)
        shared.promptCacheKey = "sluice-job_1-0"
        try await withFakeProvider { fake, http in
            let provider = openAI(fake, http)
            let first = try await provider.complete(shared)
            #expect(fake.recentRequests.last?.body?["prompt_cache_key"] == "sluice-job_1-0")
            #expect(first.usage.cachedTokens == 0 && first.finishReason == "stop")
            let second = try await provider.complete(shared)
            #expect(second.usage.cachedTokens > 0 && second.usage.cachedTokens <= second.usage.promptTokens, "\(second.usage)")
            let anthropic = AnthropicProvider(name: "anthropic", endpoint: ProviderEndpoint(baseURL: fake.baseURL, apiKey: nil, http: http))
            var long = shared
            long.longCache = true
            let written = try await anthropic.complete(long)
            #expect(fake.recentRequests.last?.body?["system"]?.arrayValue?.last?["cache_control"] == ["type": "ephemeral", "ttl": "1h"])
            #expect(fake.recentRequests.last?.body?["prompt_cache_key"] == nil, "OpenAI's parameter is not Anthropic's")
            #expect(written.usage.cacheWriteTokens > 0 && written.usage.cachedTokens == 0)
            let read = try await anthropic.complete(shared)
            #expect(fake.recentRequests.last?.body?["system"]?.arrayValue?.last?["cache_control"] == ["type": "ephemeral"], "5 minutes")
            #expect(read.usage.cachedTokens == written.usage.cacheWriteTokens && read.usage.promptTokens == written.usage.promptTokens)
            #expect(read.finishReason == "end_turn")
        }
    }

    /// One job's own `response_format`, refused, must not turn strict schemas off for the model.
    @Test func aRefusedFormatAJobChoseItselfLeavesStrictSchemasOnForOthers() async throws {
        try await withFakeProvider { fake, http in
            let provider = openAI(fake, http)
            var own = request
            own.params["response_format"] = ["type": "json_object", "bogus": true]
            fake.update { $0.fixedError = (400, "Invalid parameter: 'response_format.bogus' is not allowed.") }
            guard case .failure(.rejected) = await outcome(provider, own) else {
                Issue.record("the job's own bad format must be refused")
                return
            }
            #expect(fake.recentRequests.last?.body?["response_format"] == ["type": "json_object", "bogus": true])
            #expect(fake.counters.received == 1, "asked once: no strict schema was sent to take back")
            fake.update { $0.fixedError = nil }
            _ = try await provider.complete(request)
            #expect(fake.recentRequests.last?.body?["response_format"]?["type"] == "json_schema", "still strict for other jobs")
        }
    }

    @Test func embeddingsComeBackInInputOrderWhateverOrderTheProviderListsThem() async throws {
        let texts = ["the food was great", "the service was slow", "fine"]
        let embeddings = try RequestLine.modelRequest(
            from: JSONObject([
                ("custom_id", "e"), ("method", "POST"), ("url", "/v1/embeddings"),
                ("body", ["model": "text-embedding-3-small", "input": .array(texts.map(JSONValue.string)), "dimensions": 32]),
            ]))
        try await withFakeProvider { fake, http in
            let reply = try await openAI(fake, http).complete(embeddings)
            #expect(reply.embeddings == texts.map { OfflineEmbedding.vector(of: $0, dimensions: 32) }, "the fake lists them last first")
            #expect(reply.usage.promptTokens > 0 && reply.usage.completionTokens == 0)
            let sent = try #require(fake.recentRequests.last)
            #expect(sent.path == "/v1/embeddings")
            #expect(sent.body?["input"] == .array(texts.map(JSONValue.string)))
            #expect(sent.body?["dimensions"] == 32 && sent.body?["encoding_format"] == "float")
            let anthropic = AnthropicProvider(name: "anthropic", endpoint: ProviderEndpoint(baseURL: fake.baseURL, apiKey: nil, http: http))
            guard case .failure(.rejected(let message)) = await outcome(anthropic, embeddings) else {
                Issue.record("Anthropic makes no embeddings: the request must be refused, not sent")
                return
            }
            #expect(message.contains("no embeddings"))
        }
        let builtin = try await BuiltinProvider().complete(embeddings)
        #expect(builtin.embeddings?.map(\.count) == [32, 32, 32])
        #expect(try await BuiltinProvider().complete(embeddings) == builtin, "deterministic")
        let unit = try #require(builtin.embeddings?.first).reduce(0) { $0 + $1 * $1 }
        #expect(abs(unit - 1) < 1e-6, "unit length")
    }

    func failure(of fault: FakeProviderBehaviour.Fault, timeout: Double = 10) async throws -> ProviderFailure? {
        var behaviour = FakeProviderBehaviour()
        behaviour.scriptedFaults = [fault]
        return try await withFakeProvider(behaviour) { fake, http in
            guard case .failure(let failure) = await outcome(openAI(fake, http, timeout: timeout), request) else { return nil }
            return failure
        }
    }

    @Test func serverErrorsTimeoutsBrokenBodiesAndDroppedConnectionsAreTransient() async throws {
        // Told as classes: the provider's own text is for the server's log only.
        #expect(try await failure(of: .internalError) == .transient("HTTP 500: the provider failed"))
        #expect(try await failure(of: .unavailable) == .transient("HTTP 503: the provider failed"))
        #expect(try await failure(of: .hang, timeout: 0.3) == .transient("timed out after 0.3s"))
        guard case .transient(let malformed)? = try await failure(of: .malformedBody) else { Issue.record(); return }
        #expect(malformed.hasPrefix("the provider's reply is not valid JSON"))
        guard case .transient(let dropped)? = try await failure(of: .dropConnection) else { Issue.record(); return }
        #expect(dropped == "connection closed" || dropped == "connection failed", "\(dropped)")
    }

    @Test func aRateLimitCarriesRetryAfterAndLimitHeaders() async throws {
        var behaviour = FakeProviderBehaviour()
        behaviour.requestsPerMinute = 1
        try await withFakeProvider(behaviour) { fake, http in
            let provider = openAI(fake, http)
            let first = try await provider.complete(request)
            #expect(first.signal?.requests?.limit == 1)
            #expect(first.signal?.requests?.remaining == 0)
            guard case .failure(.rateLimited(let message, let signal)) = await outcome(provider, request) else {
                Issue.record("the second request within the minute must be refused")
                return
            }
            #expect(message.hasPrefix("HTTP 429"))
            // The wait is what is left of the minute, however long the machine took in between.
            let wait = try #require(signal.retryAfter)
            #expect(wait > 0 && wait <= 60)
            #expect(fake.counters.rateLimited == 1)
        }
    }

    @Test func refusedKeysAreUnauthorizedAndNeverEchoed() async throws {
        var behaviour = FakeProviderBehaviour()
        behaviour.requiredKey = "sk-the-right-one"
        try await withFakeProvider(behaviour) { fake, http in
            guard case .failure(.unauthorized(let message)) = await outcome(openAI(fake, http, key: "sk-wrong-secret-key"), request) else {
                Issue.record("expected a refusal")
                return
            }
            #expect(message == "HTTP 401: the provider refused the server's credentials")
        }
    }

    @Test func badRequestsAreRejectedWithTheProvidersMessage() async throws {
        var behaviour = FakeProviderBehaviour()
        behaviour.fixedError = (400, "model 'gpt-test' does not exist")
        try await withFakeProvider(behaviour) { fake, http in
            guard case .failure(let failure) = await outcome(openAI(fake, http), request) else {
                Issue.record("expected a rejection")
                return
            }
            #expect(failure == .rejected("HTTP 400: model 'gpt-test' does not exist"))
        }
    }

    @Test func aRejectionsTextLosesWhatNamesAnAccount() {
        let failure = ProviderFailure.classify(
            status: 400, message: "model x is not available to org-AbC123 (project proj_9 key sk-...abcd)", signal: RateLimitSignal())
        #expect(failure == .rejected("HTTP 400: model x is not available to [redacted] (project [redacted] key [redacted]"))
    }
}
