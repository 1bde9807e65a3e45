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

    @Test func packedRepliesAreCheckedPerItem() throws {
        let decoded = try ReplyDecoder(schema: schema).decodePacked(#"{"results": [{"score": 1}, {"score": 7}]}"#, count: 2).get()
        #expect(try decoded[0].get() == ["score": 1])
        #expect(throws: ReplyDecoder.Rejection.self) { try decoded[1].get() }
        #expect(throws: ReplyDecoder.Rejection(message: "expected 3 results, got 2")) {
            try ReplyDecoder(schema: schema).decodePacked(#"{"results": [{"score": 1}, {"score": 2}]}"#, count: 3).get()
        }
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

    @Test func feedsBackTheLastRejection() throws {
        let spec = try JobSpec.parse(["template": "{{q}}"], preset: { _ in nil })
        let request = try PromptBuilder(spec: spec).request(for: JSONObject([("q", "x")]), previousError: "$.score: missing")
        #expect(request.messages.last?.content.contains("$.score: missing") == true)
        #expect(request.system == nil)
    }

    @Test func packsItemsWithAWrapperSchema() throws {
        let spec = try JobSpec.parse(["template": "{{q}}", "items_per_request": 2], preset: { _ in nil })
        let request = try PromptBuilder(spec: spec).packedRequest(for: [JSONObject([("q", "a")]), JSONObject([("q", "b")])])
        #expect(request.isPacked)
        #expect(request.messages.count == 1)
        #expect(request.messages[0].content.contains("### Item 2\nb"))
        #expect(request.outputSchema?.validate(["results": ["x", "y"]]).isEmpty == true)
        #expect(request.outputSchema?.validate(["results": ["x"]]).isEmpty == false)
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
        #expect(parsed.objectValue?.keys == ["index", "status", "input", "output", "error", "usage", "model"])
        #expect(parsed["usage"] == ["prompt_tokens": 5, "completion_tokens": 2])
        #expect(parsed["error"] == .null)
    }

    @Test func csvRowQuotesAndFlattens() {
        var columns = ResultFormatter.CSVColumns()
        columns.add(item)
        #expect(columns.header == "name,n,score,tags,sluice_status,sluice_error,sluice_model\r\n")
        #expect(ResultFormatter.csvRow(item, columns: columns) == "\"A, \"\"B\"\"\",1,3,\"[\"\"x\"\"]\",succeeded,,m\r\n")
    }
}
