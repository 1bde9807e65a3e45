import SluiceCore
import Testing

@Suite struct ChatRequestLineTests {
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

    @Test func aValidLineBecomesAModelRequest() throws {
        #expect(ChatRequestLine.check(line(body)) == .success("a"))
        let request = try ChatRequestLine.modelRequest(from: line(body))
        #expect(request.model == "gpt-4o-mini")
        #expect(request.system == "Be brief.\n\nUse English.")
        #expect(request.messages.map(\.content) == ["Hello\nthere", "Hi", "Rate us"])
        #expect(request.messages.map(\.role) == [.user, .assistant, .user])
        #expect(request.params["temperature"] == .int(0))
        #expect(request.params["messages"] == nil && request.params["model"] == nil)
        #expect(request.inputs.first?["content"] == "Rate us", "the built-in provider reads the last user turn")
    }

    @Test func invalidLinesNameTheirOpenAICode() {
        func code(_ object: JSONObject) -> String? {
            if case .failure(let problem) = ChatRequestLine.check(object) { return problem.code }
            return nil
        }
        #expect(code(line(body, id: "")) == "missing_required_parameter")
        #expect(code(line(body, id: 7)) == "missing_required_parameter")
        #expect(code(line(body, method: "GET")) == "invalid_method")
        #expect(code(line(body, url: "/v1/embeddings")) == "invalid_url")
        #expect(code(line("text")) == "missing_required_parameter")
        #expect(code(line(["messages": [["role": "user", "content": "x"]]])) == "invalid_request", "no model")
        #expect(code(line(["model": "m", "messages": []])) == "invalid_request")
        #expect(code(line(["model": "m", "messages": [["role": "tool", "content": "x"]]])) == "invalid_request")
        #expect(code(line(["model": "m", "messages": [["role": "user", "content": "x"]], "stream": true])) == "invalid_request")
        #expect(code(line(["model": "m", "messages": [["role": "system", "content": "only system"]]])) == "invalid_request")
    }

    @Test func batchSpecsNeedNoTemplateAndRefuseOne() throws {
        let spec = try JobSpec.parse(["input": ["format": "openai_batch"], "provider": "auto"], preset: { _ in nil })
        #expect(spec.template == nil)
        #expect(spec.provider == JobSpec.routedProvider)
        let stored = try JobSpec(stored: spec.json)
        #expect(stored == spec)
        #expect(throws: SpecError.self) {
            try JobSpec.parse(["input": ["format": "openai_batch"], "template": "{{x}}"], preset: { _ in nil })
        }
        #expect(throws: SpecError.self) {
            try JobSpec.parse(["input": ["format": "openai_batch"], "items_per_request": 5], preset: { _ in nil })
        }
    }
}
