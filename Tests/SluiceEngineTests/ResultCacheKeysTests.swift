import SluiceCore
import Testing

@testable import SluiceEngine

@Suite struct ResultCacheKeysTests {
    func request(model: String = "m", system: String? = "be brief", text: String = "hello", params: JSONObject = JSONObject())
        -> ModelRequest
    {
        ModelRequest(
            model: model, system: system, messages: [ChatMessage(role: .user, content: text)], params: params, outputSchema: nil,
            inputs: [])
    }

    @Test func everyPartThatDecidesTheAnswerChangesTheKey() {
        var keys = ResultCacheKeys(provider: "openai", scope: "alice")
        let base = keys.key(for: request())
        #expect(base.count == 64 && base.allSatisfy(\.isHexDigit))
        let others = [
            keys.key(for: request(model: "n")), keys.key(for: request(system: nil)), keys.key(for: request(system: "")),
            keys.key(for: request(text: "hello!")), keys.key(for: request(params: JSONObject([("temperature", 0.5)]))),
        ]
        #expect(Set(others + [base]).count == 6)
        var bob = ResultCacheKeys(provider: "openai", scope: "bob")
        var other = ResultCacheKeys(provider: "anthropic", scope: "alice")
        #expect(bob.key(for: request()) != base && other.key(for: request()) != base)
    }

    @Test func theSharedPartsHashedOnceNeverAnswerForAnotherRequest() {
        var keys = ResultCacheKeys(provider: "openai", scope: "alice")
        let first = keys.key(for: request())
        _ = keys.key(for: request(system: "be long"))
        #expect(keys.key(for: request()) == first, "back to the first shared parts")
        var fresh = ResultCacheKeys(provider: "openai", scope: "alice")
        #expect(fresh.key(for: request(system: "be long")) == keys.key(for: request(system: "be long")))
        // A part's length goes in before it, so moving text between parts moves the key.
        #expect(keys.key(for: request(system: "ab", text: "c")) != keys.key(for: request(system: "a", text: "bc")))
    }
}
