import Foundation
import SluiceCore
import SluiceEngine
import SluiceProviders
import SluiceStore
import SluiceTestSupport
import Testing

/// A native job's tools through the engine: the output is the call's arguments, checked by
/// the tool's parameters, with a reply that calls no tool (or breaks the schema) asked again
/// with the reason — and packed rows answered through the one tool.
@Suite struct ToolJobTests {
    static let tool: JSONValue = [
        "name": "record_product",
        "parameters": [
            "type": "object", "properties": ["name": ["type": "string"], "price": ["type": "number", "minimum": 0]],
            "required": ["name", "price"],
        ],
    ]

    static func reply(_ calls: [ToolCall], text: String = "") -> ModelReply {
        var reply = ModelReply(text: text, usage: TokenUsage(promptTokens: 10, completionTokens: 5), model: "scripted-1")
        reply.toolCalls = calls
        return reply
    }

    @Test func theOutputIsTheCallsArgumentsAndAWrongReplyIsAskedAgain() async throws {
        let harness = try await EngineHarness()
        let job = try await harness.job(count: 1, spec: ["template": "Read: {{text}}", "provider": "scripted", "tools": [Self.tool]])
        let provider = ScriptedProvider.replying { _, number throws(ProviderFailure) in
            switch number {
            case 0: return Self.reply([], text: "It is a mug for 12.")
            case 1: return Self.reply([ToolCall(id: "c1", name: "record_product", arguments: #"{"name": "mug", "price": -12}"#)])
            default: return Self.reply([ToolCall(id: "c2", name: "record_product", arguments: #"{"name": "mug", "price": 12}"#)])
            }
        }
        let done = try await harness.withRunning(harness.worker([provider])) {
            try await waitForJob(harness.store, job.id, until: { $0.status.isFinal })
        }
        #expect(done.status == .completed)
        #expect(try await harness.items(job.id).map(\.output) == [["name": "mug", "price": 12]])
        let requests = provider.requests
        #expect(requests.count == 3)
        #expect(requests.allSatisfy { $0.tools.map(\.name) == ["record_product"] && $0.toolChoice == .tool("record_product") })
        #expect(requests[1].messages.last?.content.contains("the reply called no tool; answer by calling one (record_product)") == true)
        #expect(requests[2].messages.last?.content.contains("$.price: -12 is below the minimum 0") == true)
    }

    /// Several tools: the output names the one called. Packed rows (one tool): the tool's
    /// arguments are the keyed results, each row's checked by the tool's parameters.
    @Test func severalToolsNameTheOneCalledAndPackedRowsGoThroughTheOne() async throws {
        let harness = try await EngineHarness()
        let several = try await harness.job(
            count: 1, spec: ["template": "Read: {{text}}", "provider": "scripted", "tools": [Self.tool, ["name": "skip"]]])
        let packed = try await harness.job(
            count: 2, spec: ["template": "Read: {{text}}", "provider": "scripted", "tools": [Self.tool], "items_per_request": 2])
        let provider = ScriptedProvider.replying { request, _ throws(ProviderFailure) in
            guard request.isPacked else { return Self.reply([ToolCall(id: "c", name: "skip", arguments: "{}")]) }
            let results = JSONValue.array(
                request.rowKeys.map { ["key": .string($0), "output": ["name": .string("row \($0)"), "price": 1]] })
            return Self.reply([ToolCall(id: "c", name: "record_product", arguments: JSONWriter.string(["results": results]))])
        }
        try await harness.withRunning(harness.worker([provider])) {
            _ = try await waitForJob(harness.store, several.id, until: { $0.status.isFinal })
            _ = try await waitForJob(harness.store, packed.id, until: { $0.status.isFinal })
        }
        #expect(try await harness.items(several.id).map(\.output) == [["tool": "skip", "arguments": [:]]])
        #expect(try await harness.items(packed.id).map(\.output) == [["name": "row r0", "price": 1], ["name": "row r1", "price": 1]])
        let pack = try #require(provider.requests.first { $0.isPacked })
        #expect(pack.tools.first?.parameters["properties"]?["results"] != nil)
    }

    /// The offline provider answers a tools job by calling the tool with arguments its
    /// parameters allow: the main job runs with no network.
    @Test func theOfflineProviderCallsTheTool() async throws {
        let harness = try await EngineHarness()
        let job = try await harness.job(count: 3, spec: ["template": "Read: {{text}}", "tools": [Self.tool]])
        let done = try await harness.withRunning(harness.worker([BuiltinProvider()])) {
            try await waitForJob(harness.store, job.id, until: { $0.status.isFinal })
        }
        #expect(done.status == .completed)
        let schema = try OutputSchema(Self.tool["parameters"]!)
        for item in try await harness.items(job.id) {
            let output = try #require(item.output)
            #expect(schema.validate(output).isEmpty, "\(output)")
        }
    }
}
