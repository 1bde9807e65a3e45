import Foundation
import Testing

@testable import SluiceCore

@Suite struct ReplyDecoderTests {
    let schema = try! OutputSchema(["type": "object", "required": ["score"], "properties": ["score": ["type": "integer", "maximum": 5]]])

    @Test func freeTextWithoutASchema() throws {
        #expect(try ReplyDecoder(schema: nil).decode("hello").get() == .string("hello"))
    }

    @Test func acceptsJSONInsideACodeFence() throws {
        #expect(try ReplyDecoder(schema: schema).decode("```json\n{\"score\": 4}\n```").get() == ["score": 4])
    }

    @Test func refusesInvalidJSONAndSchemaBreaks() {
        guard case .failure(let notJSON) = ReplyDecoder(schema: schema).decode("score: 4") else { Issue.record(); return }
        #expect(notJSON.message.hasPrefix("the reply is not valid JSON"))
        guard case .failure(let tooHigh) = ReplyDecoder(schema: schema).decode(#"{"score": 9}"#) else { Issue.record(); return }
        #expect(tooHigh.message == "$.score: 9 is above the maximum 5")
    }

    @Test func aPackedReplyIsMatchedByKeyNotPosition() throws {
        // Out of order, r2 answered twice, r3 missing, r4 invalid, an unknown key: only r1 and r5 are right.
        let text = """
            {"results": [{"key": "r5", "output": {"score": 5}}, {"key": "r2", "output": {"score": 2}},
            {"key": "r1", "output": {"score": 1}}, {"key": "r2", "output": {"score": 3}}, {"key": "r4", "output": {"score": 9}},
            {"key": "r9", "output": {"score": 4}}]}
            """
        let reply = PackedReply(text: text, keys: ["r1", "r2", "r3", "r4", "r5"], decoder: ReplyDecoder(schema: schema))
        #expect(try reply.answers["r1"]?.get() == ["score": 1])
        #expect(try reply.answers["r5"]?.get() == ["score": 5])
        #expect(reply.answers["r2"] == .failure(.init(message: "the reply answered row r2 2 times")))
        #expect(reply.answers["r3"] == .failure(.init(message: "the reply did not answer row r3")))
        #expect(reply.answers["r4"] == .failure(.init(message: "row r4: $.score: 9 is above the maximum 5")))
        #expect(reply.unknownKeys == ["r9"])
    }

    @Test func aBrokenPackedReplyFailsEveryRowWithTheReason() {
        let reply = PackedReply(text: "not json", keys: ["r1", "r2"], decoder: ReplyDecoder(schema: nil))
        #expect(reply.answers.count == 2)
        for answer in reply.answers.values {
            guard case .failure(let rejection) = answer else { Issue.record("a row was answered"); continue }
            #expect(rejection.message.hasPrefix("the reply is not valid JSON"))
        }
        let noResults = PackedReply(text: #"{"answers": []}"#, keys: ["r1"], decoder: ReplyDecoder(schema: nil))
        #expect(noResults.answers["r1"] == .failure(.init(message: #"the reply must be an object with a "results" array"#)))
    }

    @Test func aFailedRowGoesInHalfThePackDownToOne() {
        #expect(PackedReply.smallerPack(after: 50) == 25)
        #expect(PackedReply.smallerPack(after: 3) == 1)
        #expect(PackedReply.smallerPack(after: 2) == 1)
    }
}

@Suite struct PromptBuilderTests {
    @Test func carriesHistoryAndTheSchemaInstruction() throws {
        let spec = try JobSpec.parse(
            ["template": "Q: {{q}}", "system": "Be brief.", "output_schema": ["type": "string"]], preset: { _ in nil })
        let request = try PromptBuilder(spec: spec).request(
            for: JSONObject([("q", "three")]),
            history: [.init(input: JSONObject([("q", "one")]), output: "1"), .init(input: JSONObject([("q", "two")]), output: "2")])
        #expect(request.messages.map(\.content) == ["Q: one", "1", "Q: two", "2", "Q: three"])
        #expect(request.messages.map(\.role) == [.user, .assistant, .user, .assistant, .user])
        #expect(request.system?.hasPrefix("Be brief.\n\nReply with only a JSON value") == true)
    }

    /// A row's image columns become image parts after its prompt's text, in the spec's order;
    /// an empty cell is no image, and a cell that is no image is refused with its reason.
    @Test func aRowsImagesFollowItsPromptsText() throws {
        let spec = try JobSpec.parse(
            ["template": "Caption {{name}}.", "images": ["front", "back"], "image_detail": "low"], preset: { _ in nil })
        #expect(spec.images == ["front", "back"] && spec.imageDetail == "low")
        #expect(try JobSpec(stored: spec.json) == spec)
        let png: [UInt8] =
            [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8) + [0, 0, 0, 2, 0, 0, 0, 1, 8, 2, 0, 0, 0]
        let dataURI = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAIAAAA="
        let builder = PromptBuilder(spec: spec)
        let request = try builder.request(
            for: JSONObject([("name", "a mug"), ("front", "https://x.test/mug.jpg"), ("back", .string(dataURI))]))
        #expect(
            request.messages.last?.parts == [
                .text("Caption a mug."), .image(ImagePart(source: .url("https://x.test/mug.jpg"), detail: "low")),
                .image(ImagePart(source: .inline(ImageProbe(format: .png, width: 2, height: 1), png), detail: "low")),
            ])
        let frontOnly = try builder.request(for: JSONObject([("name", "a cup"), ("front", "https://x.test/cup.jpg"), ("back", "")]))
        #expect(frontOnly.messages.last?.images.count == 1)
        #expect(throws: SpecError(field: "back", message: "'cup.jpg' is neither an http(s) URL nor a data: URI")) {
            try builder.request(for: JSONObject([("name", "a cup"), ("back", "cup.jpg")]))
        }
    }

    static let refusedImageSpecs: [(JSONValue, String, String)] = [
        (["template": "{{q}}", "images": ["a", 3]], "images", "must be a column name or a list of up to 20 column names"),
        (["template": "{{q}}", "images": "a", "image_detail": "max"], "image_detail", "must be low, high or auto"),
        (
            ["template": "{{q}}", "images": "a", "items_per_request": 5], "items_per_request",
            "rows with images run one a call: use items_per_request 1 with images"
        ),
        (["input": ["format": "openai_batch"], "images": "a"], "images", "requests given whole carry their own images in their messages"),
    ]

    @Test(arguments: refusedImageSpecs)
    func imageFieldsThatCannotWorkAreRefused(spec: JSONValue, field: String, message: String) {
        #expect(throws: SpecError(field: field, message: message)) { try JobSpec.parse(spec, preset: { _ in nil }) }
    }

    @Test func feedsBackTheLastRejection() throws {
        let spec = try JobSpec.parse(["template": "{{q}}"], preset: { _ in nil })
        let request = try PromptBuilder(spec: spec).request(for: JSONObject([("q", "x")]), previousError: "$.score: missing")
        #expect(request.messages.last?.content.contains("$.score: missing") == true)
        #expect(request.system == nil)
    }

    @Test func packsRowsUnderTheirKeysWithAKeyedSchema() throws {
        let spec = try JobSpec.parse(["template": "{{q}}", "items_per_request": 2], preset: { _ in nil })
        let request = try PromptBuilder(spec: spec).packedRequest(for: [("r7", JSONObject([("q", "a")])), ("r8", JSONObject([("q", "b")]))])
        #expect(request.isPacked)
        #expect(request.rowKeys == ["r7", "r8"])
        #expect(request.messages.count == 1)
        #expect(request.messages[0].content.contains("### Row r8\nb"))
        let answer: JSONValue = ["results": [["key": "r8", "output": "y"], ["key": "r7", "output": "x"]]]
        #expect(request.outputSchema?.validate(answer).isEmpty == true)
        #expect(request.outputSchema?.validate(["results": [["key": "r7", "output": 3]]]).isEmpty == false)
    }

    /// Every pack of a job sends the same prefix — system prompt, schema, instruction — so the
    /// provider's prompt cache can serve it; which rows (and how many) come only in the message.
    @Test func packsOfDifferentRowsShareTheirPrefix() throws {
        let spec = try JobSpec.parse(
            ["template": "{{q}}", "items_per_request": 3, "system": "Be brief.", "output_schema": ["type": "string"]], preset: { _ in nil })
        let builder = PromptBuilder(spec: spec)
        let two = try builder.packedRequest(for: [("r0", JSONObject([("q", "a")])), ("r1", JSONObject([("q", "b")]))])
        let three = try builder.packedRequest(for: [
            ("r5", JSONObject([("q", "c")])), ("r6", JSONObject([("q", "d")])), ("r7", JSONObject([("q", "e")])),
        ])
        #expect(two.system == three.system && two.outputSchema == three.outputSchema)
        #expect(two.system?.contains("r0") == false && two.outputSchema?.text.contains("r0") == false)
        #expect(two.messages[0].content.hasPrefix("2 rows:") && three.messages[0].content.hasPrefix("3 rows:"))
    }
}

@Suite struct JobCountsTests {
    @Test func finalStatusFollowsTheCounts() {
        #expect(JobCounts(total: 2, pending: 1).finalStatus(cancelling: false) == nil)
        #expect(JobCounts(total: 2, running: 1, succeeded: 1).finalStatus(cancelling: false) == nil)
        #expect(JobCounts(total: 2, succeeded: 2).finalStatus(cancelling: false) == .completed)
        #expect(JobCounts(total: 2, succeeded: 1, failed: 1).finalStatus(cancelling: false) == .completedWithErrors)
        #expect(JobCounts(total: 2, failed: 2).finalStatus(cancelling: false) == .failed)
        #expect(JobCounts(total: 2, succeeded: 1, cancelled: 1).finalStatus(cancelling: true) == .cancelled)
    }

    @Test func backoffGrowsAndIsCapped() {
        let backoff = RetryBackoff(base: 1, cap: 10)
        #expect(backoff.ceiling(attempt: 1) == 1)
        #expect(backoff.ceiling(attempt: 3) == 4)
        #expect(backoff.ceiling(attempt: 9) == 10)
        #expect(backoff.delay(attempt: 3, unit: 0.5) == 2)
    }
}

@Suite struct ResultFormatterTests {
    let item = Item(
        id: 1, jobID: "j", index: 4, groupKey: nil, status: .succeeded, input: JSONObject([("name", "A, \"B\""), ("n", "1")]),
        output: ["score": 3, "tags": ["x"]], usage: TokenUsage(promptTokens: 5, completionTokens: 2), model: "m")

    @Test func jsonLineHasTheContractShape() throws {
        let line = ResultFormatter.jsonLine(item)
        #expect(line.hasSuffix("\n"))
        let parsed = try JSONParser.parse(String(line.dropLast()))
        #expect(parsed.objectValue?.keys == ["index", "status", "input", "output", "error", "usage", "model", "cached"])
        #expect(parsed["usage"] == ["prompt_tokens": 5, "completion_tokens": 2])
        #expect(parsed["error"] == .null)
    }

    @Test func csvRowQuotesAndFlattens() {
        var columns = ResultFormatter.CSVColumns()
        columns.add(item)
        #expect(columns.header() == "name,n,score,tags,sluice_status,sluice_error,sluice_model\r\n")
        #expect(ResultFormatter.csvRow(item, columns: columns) == "\"A, \"\"B\"\"\",1,3,\"[\"\"x\"\"]\",succeeded,,m\r\n")
    }
}

@Suite struct ReplyBudgetTests {
    @Test func aReplyCutEmptyDoublesItsLimitUpToTheCapAndTheBudget() {
        #expect(ReplyBudget.isCutEmpty(text: " \n", finishReason: "length"))
        #expect(ReplyBudget.isCutEmpty(text: "", finishReason: "max_tokens"))
        #expect(!ReplyBudget.isCutEmpty(text: "{\"a\":", finishReason: "length"), "a reply cut mid-answer is a malformed one")
        #expect(!ReplyBudget.isCutEmpty(text: "", finishReason: "stop"))
        #expect(ReplyBudget.next(after: 500, used: 500, cap: 32_768, tokensLeft: nil) == 1_000)
        #expect(ReplyBudget.next(after: nil, used: 4_096, cap: 32_768, tokensLeft: nil) == 8_192, "no limit set: what it used")
        #expect(ReplyBudget.next(after: 20_000, used: 20_000, cap: 32_768, tokensLeft: nil) == 32_768, "never past the cap")
        #expect(ReplyBudget.next(after: 32_768, used: 32_768, cap: 32_768, tokensLeft: nil) == nil, "at the cap")
        #expect(ReplyBudget.next(after: 1_000, used: 1_000, cap: 32_768, tokensLeft: 1_500) == 1_500, "within the budget")
        #expect(ReplyBudget.next(after: 1_000, used: 1_000, cap: 32_768, tokensLeft: 800) == nil, "the budget allows no more")
    }
}

@Suite struct AutoTierSwitchTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func goesLiveWhenDoubleTheLiveTimeAndTheMarginReachTheDeadline() {
        // 6,000 rows, 10 a call, 1 call a second: 600 s live, doubled 1,200, plus 600 margin.
        let deadline = now.addingTimeInterval(1_800)
        #expect(AutoTierSwitch.mustGoLive(now: now, deadline: deadline, unfinished: 6_000, rowsPerCall: 10, callsPerSecond: 1))
        #expect(
            !AutoTierSwitch.mustGoLive(
                now: now.addingTimeInterval(-1), deadline: deadline, unfinished: 6_000, rowsPerCall: 10, callsPerSecond: 1))
        #expect(!AutoTierSwitch.mustGoLive(now: now, deadline: deadline, unfinished: 5_000, rowsPerCall: 10, callsPerSecond: 1))
        #expect(
            AutoTierSwitch.mustGoLive(now: now, deadline: deadline, unfinished: 1, rowsPerCall: 1, callsPerSecond: 0),
            "no known pace: a floor, not a division by zero")
    }
}
