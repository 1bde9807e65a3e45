import SluiceCore
import SluiceWire
import Testing

/// The wire shapes read from and write to the project's own JSON tree: member order kept,
/// refusals naming the field path in each vendor's spelling.
@Suite struct WireCodingTests {
    struct Shape: Codable, Equatable {
        var name: String
        var count: Int
        var ratio: Double?
        var tags: [String]
        var extra: JSONValue?
    }

    @Test func aShapeRoundTripsThroughTheTreeInDeclarationOrder() throws {
        let value: JSONValue = ["name": "a", "count": 3.0, "tags": ["x", "y"], "extra": ["k": [1, nil]]]
        let shape = try WireDecoder.decode(Shape.self, from: value)
        #expect(shape == Shape(name: "a", count: 3, ratio: nil, tags: ["x", "y"], extra: ["k": [1, nil]]))
        #expect(JSONWriter.string(WireEncoder.encode(shape)) == #"{"name":"a","count":3,"tags":["x","y"],"extra":{"k":[1,null]}}"#)
    }

    @Test func aRefusalNamesItsFieldPathInEitherSpelling() {
        func refusal(_ value: JSONValue) -> WireError? {
            do {
                _ = try WireDecoder.decode([String: [Shape]].self, from: value)
                return nil
            } catch { return error }
        }
        let wrongType = refusal(["list": [["name": "a", "count": 1, "tags": []], ["name": "b", "count": 1.5, "tags": []]]])
        #expect(wrongType?.dottedField == "list.1.count")
        #expect(wrongType?.bracketedField == "list[1].count")
        #expect(wrongType?.message == "must be an integer")
        #expect(refusal(["list": [["name": "a", "count": 1]]])?.dottedField == "list.0.tags")
        #expect(refusal(["list": [["name": "a", "count": 1]]])?.message == "is required")
        #expect(refusal(["list": [["name": 7, "count": 1, "tags": []]]])?.message == "must be a string")
        #expect(refusal(["list": "no"])?.message == "must be an array")
        #expect(refusal(["list": [["name": "a", "count": 1, "tags": [nil]]]])?.dottedField == "list.0.tags.0")
        #expect(refusal(["list": []]) == nil)
    }

    let call = ModelRequest(
        model: "m", system: "Be brief.",
        messages: [
            ChatMessage(role: .user, content: "Hi"), ChatMessage(role: .user, content: "Again"),
            ChatMessage(role: .assistant, content: "Yo"),
        ],
        params: JSONObject([("temperature", 0), ("max_tokens", 9), ("seed", 4)]), outputSchema: try? OutputSchema(["type": "object"]),
        inputs: [])

    @Test func theOpenAIBodyCarriesTheSystemTurnParamsAndJSONMode() {
        #expect(
            JSONWriter.string(WireEncoder.encode(ChatCompletionsRequest(call)))
                == #"{"model":"m","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"},"#
                + #"{"role":"user","content":"Again"},{"role":"assistant","content":"Yo"}],"temperature":0,"max_tokens":9,"seed":4,"#
                + #""response_format":{"type":"json_object"}}"#)
    }

    @Test func theAnthropicBodyJoinsTurnsAndSendsOnlyItsOwnParams() {
        #expect(
            JSONWriter.string(WireEncoder.encode(MessagesRequest(call)))
                == #"{"model":"m","max_tokens":9,"system":"Be brief.","messages":[{"role":"user","content":"Hi\n\nAgain"},"#
                + #"{"role":"assistant","content":"Yo"}],"temperature":0}"#)
    }

    /// A prompt with a photo by URL and one inline: OpenAI takes `image_url` parts (the inline
    /// one as a data: URI, `detail` kept); Anthropic `image` blocks (a URL source, a base64
    /// source with the media type its bytes say), a correction joined after them.
    @Test func imagesGoAfterTheTextInEachVendorsParts() throws {
        let png: [UInt8] =
            [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8) + [0, 0, 0, 2, 0, 0, 0, 1, 8, 2, 0, 0, 0]
        let inline = ImagePart(source: .inline(try #require(ImageProbe(png)), png))
        let call = ModelRequest(
            model: "m", system: nil,
            messages: [
                ChatMessage(
                    role: .user,
                    parts: [
                        .text("Caption these."), .image(ImagePart(source: .url("https://x.test/a.jpg"), detail: "low")), .image(inline),
                    ]),
                ChatMessage(role: .user, content: "Shorter."),
            ], params: JSONObject(), outputSchema: nil, inputs: [])
        let encoded = "iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAIAAAA="
        #expect(
            JSONWriter.string(WireEncoder.encode(ChatCompletionsRequest(call)))
                == #"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"Caption these."},"#
                + #"{"type":"image_url","image_url":{"url":"https://x.test/a.jpg","detail":"low"}},"#
                + #"{"type":"image_url","image_url":{"url":"data:image/png;base64,\#(encoded)"}}]},"#
                + #"{"role":"user","content":"Shorter."}]}"#)
        #expect(
            JSONWriter.string(WireEncoder.encode(MessagesRequest(call)))
                == #"{"model":"m","max_tokens":1024,"messages":[{"role":"user","content":[{"type":"text","text":"Caption these."},"#
                + #"{"type":"image","source":{"type":"url","url":"https://x.test/a.jpg"}},"#
                + #"{"type":"image","source":{"type":"base64","media_type":"image/png","data":"\#(encoded)"}},"#
                + #"{"type":"text","text":"Shorter."}]}]}"#)
        // The tokens a call reserves count its images by its provider's rule: the URL at low
        // detail a flat 85 or, unseen, Anthropic's most; the 2 × 1 image one tile, or 1 token.
        let text = Double("Caption these.Shorter.".utf8.count) / 4
        #expect(call.promptTokens(imagesBy: .tiles) == text + 85 + 255)
        #expect(call.promptTokens(imagesBy: .pixels) == text + 1600 + 1)
    }

    @Test func repliesAreReadWithLooseUsageAndStrictContent() throws {
        let chat = try WireDecoder.decode(
            ChatCompletion.self, from: ["choices": [["message": ["content": "ok"]]], "usage": ["prompt_tokens": "3"], "model": "x"])
        #expect(chat.text == "ok" && chat.model == "x")
        #expect(chat.usage == TokenUsage(promptTokens: 0, completionTokens: 0), "a malformed count reads as zero, not a failed call")
        #expect(try WireDecoder.decode(ChatCompletion.self, from: ["choices": []]).text == nil)
        #expect(throws: WireError.self) { try WireDecoder.decode(ChatCompletion.self, from: ["choices": "none"]) }
        let messages = try WireDecoder.decode(
            MessagesReply.self,
            from: [
                "content": [["type": "thinking"], ["type": "text", "text": "a"], ["type": "text", "text": "b"]],
                "usage": ["input_tokens": 5, "output_tokens": 2],
            ])
        #expect(messages.text == "ab" && messages.usage == TokenUsage(promptTokens: 5, completionTokens: 2))
        #expect(try WireDecoder.decode(MessagesReply.self, from: ["content": [["type": "tool_use"]]]).text == nil)
        let embeddings = try WireDecoder.decode(
            EmbeddingsReply.self, from: ["data": [["index": 1, "embedding": [0.5]], ["index": 0, "embedding": [1, 2]]]])
        #expect(try embeddings.vectors(count: 2) == [[1, 2], [0.5]])
        #expect(throws: WireError.self) { try embeddings.vectors(count: 3) }
        let repeated = try WireDecoder.decode(
            EmbeddingsReply.self, from: ["data": [["index": 0, "embedding": [0.5]], ["index": 0, "embedding": [1]]]])
        #expect(throws: WireError.self) { try repeated.vectors(count: 2) }
    }
}

/// What Sluice writes in the vendors' shapes: every field their SDKs read, `null` written out
/// where the vendor writes it.
@Suite struct WireOutputTests {
    @Test func aBatchFileLineHasAResponseOrAnErrorAndTheOtherNull() throws {
        let usage = TokenUsage(promptTokens: 3, completionTokens: 2, cachedTokens: 1, reasoningTokens: 1)
        let reply = ChatCompletion(id: "c", created: 7, model: "m", text: "hi", usage: usage, finishReason: "length")
        #expect(
            JSONWriter.string(
                WireEncoder.encode(
                    BatchRequestOutput(id: "r", customID: "a", outcome: .response(requestID: "q", body: .chatCompletion(reply)))))
                == #"{"id":"r","custom_id":"a","response":{"status_code":200,"request_id":"q","body":{"id":"c","object":"chat.completion","#
                + #""created":7,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi","refusal":null},"#
                + #""logprobs":null,"finish_reason":"length"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5,"#
                + #""prompt_tokens_details":{"cached_tokens":1},"completion_tokens_details":{"reasoning_tokens":1}}}},"#
                + #""error":null}"#)
        #expect(
            JSONWriter.string(WireEncoder.encode(BatchRequestOutput(id: "r", customID: "a", outcome: .error(code: "x", message: "y"))))
                == #"{"id":"r","custom_id":"a","response":null,"error":{"code":"x","message":"y"}}"#)
        let read = WireEncoder.encode(reply)
        #expect(try WireDecoder.decode(ChatCompletion.self, from: read) == reply, "what is written reads back")
    }

    @Test func aMessageBatchResultCarriesTheMessageOrTheError() throws {
        let usage = TokenUsage(promptTokens: 10, completionTokens: 2, cachedTokens: 6, cacheWriteTokens: 1)
        let message = MessagesReply(id: "msg", model: "m", text: "hi", usage: usage, stopReason: "end_turn")
        #expect(
            JSONWriter.string(WireEncoder.encode(MessageBatchResult(customID: "a", outcome: .succeeded(message))))
                == #"{"custom_id":"a","result":{"type":"succeeded","message":{"id":"msg","type":"message","role":"assistant","model":"m","#
                + #""content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","stop_sequence":null,"#
                + #""usage":{"input_tokens":3,"cache_creation_input_tokens":1,"cache_read_input_tokens":6,"output_tokens":2}}}}"#)
        #expect(try WireDecoder.decode(MessagesReply.self, from: WireEncoder.encode(message)).usage == usage, "read back whole")
        #expect(
            JSONWriter.string(WireEncoder.encode(MessageBatchResult(customID: "a", outcome: .expired)))
                == #"{"custom_id":"a","result":{"type":"expired"}}"#)
    }

    @Test func finishReasonsSpeakTheFileAPIsLanguage() {
        #expect(FinishReason.openAI("max_tokens") == "length" && FinishReason.openAI(nil) == "stop")
        #expect(FinishReason.anthropic("length") == "max_tokens" && FinishReason.anthropic("stop") == "end_turn")
        #expect(FinishReason.openAI("length") == "length" && FinishReason.anthropic("refusal") == "refusal")
    }

    @Test func aBatchObjectWritesEveryTimeAndTheRefusedLines() {
        var object = BatchObject(
            id: "batch_1", endpoint: "/v1/embeddings", model: nil, inputFileID: "file-1", completionWindow: "24h", status: "failed",
            times: BatchObject.Times(createdAt: 10), requestCounts: BatchObject.RequestCounts(total: 0, completed: 0, failed: 0),
            usage: TokenUsage(promptTokens: 0, completionTokens: 0))
        object.errors = [BatchObject.InputError(code: "invalid_url", message: "bad", line: 2)]
        let json = WireEncoder.encode(object)
        #expect(json["errors"] == ["object": "list", "data": [["code": "invalid_url", "message": "bad", "param": nil, "line": 2]]])
        #expect(json["model"] == .null && json["cancelled_at"] == .null && json["metadata"] == .null)
        #expect(json.objectValue?.keys.count == 22)
        object.usage = TokenUsage(promptTokens: 10, completionTokens: 4, cachedTokens: 8, cacheWriteTokens: 2, reasoningTokens: 3)
        #expect(
            WireEncoder.encode(object)["usage"] == [
                "input_tokens": 10, "input_tokens_details": ["cached_tokens": 8], "output_tokens": 4,
                "output_tokens_details": ["reasoning_tokens": 3], "total_tokens": 14,
            ])
    }
}
