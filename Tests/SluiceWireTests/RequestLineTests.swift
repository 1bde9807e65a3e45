import SluiceCore
import SluiceWire
import Testing

@Suite struct RequestLineTests {
    func line(_ body: JSONValue, url: JSONValue = "/v1/chat/completions", method: JSONValue = "POST", id: JSONValue = "a") -> JSONObject {
        JSONObject([("custom_id", id), ("method", method), ("url", url), ("body", body)])
    }

    let body: JSONValue = [
        "model": "gpt-4o-mini", "temperature": 0,
        "messages": [
            ["role": "system", "content": "Be brief."], ["role": "developer", "content": "Use English."],
            ["role": "user", "content": [["type": "text", "text": "Hello"], ["type": "text", "text": "there"]]],
            ["role": "assistant", "content": "Hi"], ["role": "user", "content": "Rate us"],
        ],
    ]

    func code(_ object: JSONObject, endpoints: [BatchEndpoint] = BatchEndpoint.openAI) -> String? {
        if case .failure(let problem) = RequestLine.check(object, endpoints: endpoints) { return problem.code }
        return nil
    }

    @Test func aValidLineBecomesAModelRequest() throws {
        #expect(RequestLine.check(line(body), endpoints: [.chatCompletions]) == .success("a"))
        let request = try RequestLine.modelRequest(from: line(body))
        #expect(request.model == "gpt-4o-mini")
        #expect(request.system == "Be brief.\n\nUse English.")
        #expect(request.messages.map(\.content) == ["Hello\nthere", "Hi", "Rate us"])
        #expect(request.messages.map(\.role) == [.user, .assistant, .user])
        #expect(request.params["temperature"] == .int(0))
        #expect(request.params["messages"] == nil && request.params["model"] == nil)
        #expect(request.inputs.first?["content"] == "Rate us", "the built-in provider reads the last user turn")
        #expect(request.operation == .chat)
        #expect(RequestLine.model(of: line(body)) == "gpt-4o-mini")
    }

    @Test func invalidLinesNameTheirOpenAICode() {
        #expect(code(line(body, id: "")) == "missing_required_parameter")
        #expect(code(line(body, id: 7)) == "missing_required_parameter")
        #expect(code(line(body, method: "GET")) == "invalid_method")
        #expect(code(line(body, url: "/v1/completions")) == "invalid_url")
        #expect(code(line(body), endpoints: [.embeddings]) == "invalid_url", "a line must call its batch's endpoint")
        #expect(code(line("text")) == "missing_required_parameter")
        #expect(code(line(["messages": [["role": "user", "content": "x"]]])) == "invalid_request", "no model")
        #expect(code(line(["model": "m", "messages": []])) == "invalid_request")
        #expect(code(line(["model": "m", "messages": [["role": "tool", "content": "x"]]])) == "invalid_request")
        #expect(code(line(["model": "m", "messages": [["role": "user", "content": "x"]], "stream": true])) == "invalid_request")
        #expect(code(line(["model": "m", "messages": [["role": "system", "content": "only system"]]])) == "invalid_request")
    }

    @Test func embeddingsLinesAskForOneVectorPerText() throws {
        let many = line(["model": "text-embedding-3-small", "input": ["first", "second"], "dimensions": 8], url: "/v1/embeddings")
        #expect(RequestLine.check(many, endpoints: [.embeddings]) == .success("a"))
        let request = try RequestLine.modelRequest(from: many)
        #expect(request.operation == .embeddings(["first", "second"]))
        #expect(request.params["dimensions"] == .int(8))
        #expect(request.maxReplyTokens == 0, "an embedding costs its input alone against a token limit")
        let one = try RequestLine.modelRequest(from: line(["model": "e", "input": "alone"], url: "/v1/embeddings"))
        #expect(one.operation == .embeddings(["alone"]))
        for bad: JSONValue in [
            ["model": "e"], ["model": "e", "input": []], ["model": "e", "input": [[1, 2, 3]]], ["model": "e", "input": [""]],
            ["model": "e", "input": "x", "encoding_format": "base64"], ["model": "e", "input": "x", "dimensions": 0],
        ] {
            #expect(code(line(bad, url: "/v1/embeddings")) == "invalid_request", "\(bad)")
        }
    }

    @Test func responsesLinesRunAsChats() throws {
        let string = try RequestLine.modelRequest(
            from: line(
                ["model": "gpt-4.1", "input": "Hi", "instructions": "Be brief.", "max_output_tokens": 50, "store": false],
                url: "/v1/responses"))
        #expect(string.system == "Be brief.")
        #expect(string.messages == [ChatMessage(role: .user, content: "Hi")])
        #expect(string.params["max_tokens"] == .int(50))
        #expect(string.params["store"] == nil, "what only changes OpenAI's bookkeeping is not sent on")
        let items = try RequestLine.modelRequest(
            from: line(
                [
                    "model": "m",
                    "input": [
                        ["role": "developer", "content": "Rules"], ["role": "user", "content": [["type": "input_text", "text": "Q"]]],
                        ["type": "message", "role": "assistant", "content": [["type": "output_text", "text": "A"]]],
                        ["role": "user", "content": "Q2"],
                    ],
                ], url: "/v1/responses"))
        #expect(items.system == "Rules")
        #expect(items.messages.map(\.content) == ["Q", "A", "Q2"])
        for bad: JSONValue in [
            ["model": "m"], ["model": "m", "input": []], ["model": "m", "input": "x", "tools": [["type": "web_search_preview"]]],
            ["model": "m", "input": [["type": "function_call_output", "output": "x"]]],
            ["model": "m", "input": "x", "max_output_tokens": 0],
        ] {
            #expect(code(line(bad, url: "/v1/responses")) == "invalid_request", "\(bad)")
        }
    }

    @Test func anthropicRequestsAreCheckedAsAnthropicChecksThem() throws {
        func request(_ params: JSONValue, id: JSONValue = "req-1") -> JSONObject { JSONObject([("custom_id", id), ("params", params)]) }
        let params: JSONValue = [
            "model": "claude-sonnet-4-5", "max_tokens": 100, "system": [["type": "text", "text": "Be brief."]],
            "messages": [
                ["role": "user", "content": "Hi"], ["role": "assistant", "content": "Hello"], ["role": "user", "content": "Bye"],
            ],
            "temperature": 0.5,
        ]
        #expect(RequestLine.check(request(params), endpoints: [.messages]) == .success("req-1"))
        let built = try RequestLine.modelRequest(from: request(params))
        #expect(built.system == "Be brief.")
        #expect(built.messages.map(\.role) == [.user, .assistant, .user])
        #expect(built.params["max_tokens"] == .int(100) && built.params["temperature"] == .double(0.5))
        #expect(RequestLine.endpoint(of: request(params)) == .messages)
        func param(_ object: JSONObject) -> String? {
            if case .failure(let problem) = RequestLine.check(object, endpoints: [.messages]) { return problem.param }
            return nil
        }
        #expect(param(request(params, id: "has space")) == "custom_id")
        #expect(param(request(params).with("url", "/v1/chat/completions")) == "url", "Anthropic refuses extra inputs")
        #expect(param(request(params, id: .string(String(repeating: "x", count: 65)))) == "custom_id")
        #expect(param(request(["model": "c", "messages": [["role": "user", "content": "x"]]])) == "params.max_tokens")
        #expect(
            param(request(["model": "c", "max_tokens": 5, "messages": [["role": "assistant", "content": "x"]]])) == "params.messages.0.role"
        )
        #expect(
            param(request(["model": "c", "max_tokens": 5, "messages": [["role": "user", "content": "x"]], "mcp_servers": []]))
                == "params.mcp_servers")
    }

    @Test func batchSpecsNeedNoTemplateAndRefuseOne() throws {
        for format in ["openai_batch", "anthropic_batch"] {
            let spec = try JobSpec.parse(["input": ["format": .string(format)], "provider": "auto"], preset: { _ in nil })
            #expect(spec.template == nil)
            #expect(spec.provider == JobSpec.routedProvider)
            let stored = try JobSpec(stored: spec.json)
            #expect(stored == spec)
            #expect(throws: SpecError.self) {
                try JobSpec.parse(["input": ["format": .string(format)], "template": "{{x}}"], preset: { _ in nil })
            }
            #expect(throws: SpecError.self) {
                try JobSpec.parse(["input": ["format": .string(format)], "items_per_request": 5], preset: { _ in nil })
            }
        }
    }
}
