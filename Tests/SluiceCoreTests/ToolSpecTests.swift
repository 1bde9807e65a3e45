import Testing

@testable import SluiceCore

/// A native job's tools: read and refused as the spec is, and the prompt that offers them.
@Suite struct ToolSpecTests {
    static let weather: JSONValue = [
        "name": "record_product", "description": "Records a product's facts.",
        "parameters": [
            "type": "object", "properties": ["name": ["type": "string"], "price": ["type": "number", "minimum": 0]],
            "required": ["name", "price"],
        ],
    ]

    func spec(_ fields: JSONValue) throws(SpecError) -> JobSpec {
        guard case .object(var object) = fields else { fatalError() }
        if object["template"] == nil { object["template"] = "Read: {{text}}" }
        return try JobSpec.parse(.object(object), preset: { _ in nil })
    }

    @Test func toolsAreReadInEitherFormAndStoredBack() throws {
        let one = try spec(["tools": [Self.weather]])
        #expect(one.tools?.definitions.map(\.name) == ["record_product"])
        #expect(one.tools?.choice == .tool("record_product"), "one tool: that tool")
        #expect(try JobSpec(stored: one.json) == one)
        let openAIForm = try spec([
            "tools": [["type": "function", "function": Self.weather], ["name": "skip", "parameters": ["type": "object"]]],
            "tool_choice": "auto",
        ])
        #expect(openAIForm.tools?.definitions.map(\.name) == ["record_product", "skip"])
        #expect(openAIForm.tools?.choice == .auto)
        #expect(try spec(["tools": [Self.weather, ["name": "skip"]]]).tools?.choice == .required, "several: some tool")
        #expect(
            try spec(["tools": [Self.weather], "tool_choice": ["type": "function", "function": ["name": "record_product"]]]).tools?.choice
                == .tool("record_product"))
    }

    @Test(
        arguments: [
            (["tools": []] as JSONValue, "tools", "must be a list of 1 to 128 tools"),
            (["tools": [["name": "has space"]]], "tools[0].name", "must be 1 to 64 letters, digits, _ or -"),
            (["tools": [["name": "a"], ["name": "a"]]], "tools[1].name", "'a' names two tools"),
            (
                ["tools": [["name": "a", "parameters": ["type": "string"]]]], "tools[0].parameters",
                "must be a JSON Schema of type object (a call's arguments are an object)"
            ),
            (["tools": [["name": "a", "parameters": ["type": "object", "patternProperties": [:]]]]], "tools[0].parameters", nil),
            (["tools": [["name": "a", "colour": "red"]]], "tools[0].colour", "is not a tool's field (name, description, parameters)"),
            (
                ["tools": [["name": "a"]], "tool_choice": "none"], "tool_choice",
                "'none' leaves the model nothing to answer with: auto, required or a tool's name"
            ),
            (["tools": [["name": "a"]], "tool_choice": "b"], "tool_choice", "must be auto, required or one of the tools' names (a)"),
            (["tool_choice": "auto"], "tool_choice", "there are no tools to choose from"),
            (
                ["tools": [["name": "a"]], "output_schema": ["type": "object"]], "output_schema",
                "a job with tools answers with a tool's arguments, checked by its parameters: leave output_schema out"
            ),
            (
                ["tools": [["name": "a"], ["name": "b"]], "items_per_request": 5], "items_per_request",
                "packed rows answer through one tool: use items_per_request 1 with several tools"
            ),
        ] as [(JSONValue, String, String?)])
    func badToolsAreRefusedAtTheirField(fields: JSONValue, field: String, message: String?) {
        do {
            _ = try spec(fields)
            Issue.record("accepted: \(fields)")
        } catch {
            #expect(error.field == field || error.field.hasPrefix(field), "\(error)")
            if let message { #expect(error.message == message) }
        }
    }

    @Test func aBatchFilesSpecCannotHaveTools() {
        #expect(throws: SpecError(field: "tools", message: "requests given whole carry their own tools in their bodies")) {
            try JobSpec.parse(["input": ["format": "openai_batch"], "tools": [Self.weather]], preset: { _ in nil })
        }
    }

    /// The prompt offers the tools, one call at a time, and the answer is the call; packed rows
    /// answer through the one tool, whose arguments become the keyed results of its parameters.
    @Test func thePromptOffersTheToolsAndPacksThroughTheOne() throws {
        let one = try spec(["tools": [Self.weather]])
        let request = try PromptBuilder(spec: one).request(for: JSONObject([("text", "a red mug, 12 pounds")]))
        #expect(request.tools.map(\.name) == ["record_product"])
        #expect(request.toolChoice == .tool("record_product") && request.parallelToolCalls == false && request.answersWithTool)
        #expect(request.outputSchema == nil, "no response format: the call is the answer")

        let packed = try PromptBuilder(spec: try spec(["tools": [Self.weather], "items_per_request": 2])).packedRequest(
            for: [("r0", JSONObject([("text", "mug")])), ("r1", JSONObject([("text", "cup")]))])
        let parameters = try #require(packed.tools.first?.parameters)
        #expect(parameters["properties"]?["results"]?["items"]?["properties"]?["output"] == Self.weather["parameters"])
        #expect(packed.toolChoice == .tool("record_product") && packed.answersWithTool && packed.outputSchema == nil)
        #expect(packed.system?.contains("in one call to record_product") == true)
    }

    /// The reply is read through its one call: none, several, or an unknown tool is refused
    /// in words for the model; arguments are checked by the called tool's parameters.
    @Test func aReplyIsReadThroughItsOneCall() throws {
        let tools = try #require(try spec(["tools": [Self.weather, ["name": "skip"]]]).tools)
        func answer(_ calls: [ToolCall]) -> Result<JSONValue, ReplyDecoder.Rejection> {
            var reply = ModelReply(text: "", usage: TokenUsage(), model: "m")
            reply.toolCalls = calls
            return tools.answer(reply) { ReplyDecoder(schema: $1).decode($0) }.map { tools.output(tool: $0.tool, arguments: $0.answer) }
        }
        #expect(
            answer([])
                == .failure(ReplyDecoder.Rejection(message: "the reply called no tool; answer by calling one (record_product, skip)")))
        let call = ToolCall(id: "c1", name: "record_product", arguments: #"{"name": "mug", "price": 12}"#)
        #expect(answer([call, call]) == .failure(ReplyDecoder.Rejection(message: "the reply called 2 tools; call exactly one")))
        #expect(
            answer([ToolCall(id: "c", name: "nope", arguments: "{}")])
                == .failure(
                    ReplyDecoder.Rejection(message: "the reply called 'nope', which is not one of the tools (record_product, skip)")))
        #expect(answer([call]) == .success(["tool": "record_product", "arguments": ["name": "mug", "price": 12]]))
        #expect(
            answer([ToolCall(id: "c", name: "record_product", arguments: #"{"name": "mug", "price": -1}"#)])
                == .failure(ReplyDecoder.Rejection(message: "$.price: -1 is below the minimum 0")))
    }
}
