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

    /// Two photos with the same question are two answers: each image, its bytes or URL and its
    /// detail, is in the key, and a message of text alone keys as before images existed.
    @Test func eachImageOfAPromptChangesTheKey() {
        var keys = ResultCacheKeys(provider: "openai", scope: "alice")
        func asking(_ images: [ImagePart]) -> ModelRequest {
            var call = request()
            call.messages = [ChatMessage(role: .user, parts: [.text("hello")] + images.map { .image($0) })]
            return call
        }
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8) + [0, 0, 0, 2, 0, 0, 0, 1]
        let probe = ImageProbe(format: .png, width: 2, height: 1)
        let variants = [
            asking([ImagePart(source: .url("https://x.test/a.jpg"))]), asking([ImagePart(source: .url("https://x.test/b.jpg"))]),
            asking([ImagePart(source: .url("https://x.test/a.jpg"), detail: "low")]),
            asking([ImagePart(source: .inline(probe, png))]), asking([ImagePart(source: .inline(probe, png + [0]))]),
            asking([ImagePart(source: .url("https://x.test/a.jpg")), ImagePart(source: .url("https://x.test/b.jpg"))]),
        ]
        let imageKeys = variants.map { keys.key(for: $0) }
        #expect(Set(imageKeys + [keys.key(for: request())]).count == variants.count + 1)
        #expect(keys.key(for: asking([])) == keys.key(for: request()), "text alone keys as it always has")
    }
}
