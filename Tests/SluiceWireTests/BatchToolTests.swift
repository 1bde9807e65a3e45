import SluiceCore
import SluiceWire
import Testing

/// Batch lines carrying tools, calls, results and documents, as each vendor writes them, read
/// into the provider-neutral call (and so sent on in either vendor's shape); what Sluice cannot
/// carry is refused at its field.
@Suite struct BatchToolTests {
    static let parameters: JSONValue = ["type": "object", "properties": ["city": ["type": "string"]], "required": ["city"]]

    @Test func anOpenAIChatLinesToolsCallsAndResultsAreRead() throws {
        let body: JSONValue = [
            "model": "gpt-4o-mini",
            "tools": [
                [
                    "type": "function",
                    "function": ["name": "weather", "description": "Today's weather.", "parameters": Self.parameters, "strict": true],
                ]
            ],
            "tool_choice": ["type": "function", "function": ["name": "weather"]],
            "parallel_tool_calls": false,
            "messages": [
                ["role": "user", "content": "Weather in Oslo?"],
                [
                    "role": "assistant", "content": .null,
                    "tool_calls": [
                        ["id": "call_1", "type": "function", "function": ["name": "weather", "arguments": #"{"city":"Oslo"}"#]]
                    ],
                ],
                ["role": "tool", "tool_call_id": "call_1", "content": "4 °C, rain"],
                [
                    "role": "user",
                    "content": [
                        ["type": "text", "text": "And this report?"],
                        ["type": "file", "file": ["filename": "r.pdf", "file_data": "data:application/pdf;base64,JVBERi0x"]],
                    ],
                ],
            ],
        ]
        let request = try ChatCompletionsRequest.modelRequest(body: try #require(body.objectValue))
        #expect(
            request.tools == [ToolDefinition(name: "weather", description: "Today's weather.", parameters: Self.parameters, strict: true)])
        #expect(request.toolChoice == .tool("weather") && request.parallelToolCalls == false && !request.answersWithTool)
        #expect(request.params["tools"] == nil, "tools are the call's own, not parameters passed blind")
        #expect(request.messages.map(\.role) == [.user, .assistant, .tool, .user])
        #expect(request.messages[1].parts == [.toolCall(ToolCall(id: "call_1", name: "weather", arguments: #"{"city":"Oslo"}"#))])
        #expect(request.messages[2].parts == [.toolResult(callID: "call_1", text: "4 °C, rain", isError: false)])
        #expect(request.messages[3].parts.last == .document(DocumentPart(source: .pdf(base64: "JVBERi0x"), title: "r.pdf")))
    }

    @Test func anAnthropicRequestsToolsUsesResultsAndDocumentsAreRead() throws {
        let params: JSONValue = [
            "model": "claude-x", "max_tokens": 100,
            "tools": [["name": "weather", "input_schema": Self.parameters]],
            "tool_choice": ["type": "any", "disable_parallel_tool_use": true],
            "messages": [
                [
                    "role": "user",
                    "content": [
                        [
                            "type": "document", "source": ["type": "text", "media_type": "text/plain", "data": "Oslo: rain."],
                            "title": "notes",
                        ],
                        ["type": "text", "text": "Weather in Oslo?"],
                    ],
                ],
                [
                    "role": "assistant",
                    "content": [
                        ["type": "text", "text": "Checking."],
                        ["type": "tool_use", "id": "toolu_1", "name": "weather", "input": ["city": "Oslo"]],
                    ],
                ],
                [
                    "role": "user",
                    "content": [
                        [
                            "type": "tool_result", "tool_use_id": "toolu_1", "content": [["type": "text", "text": "no data"]],
                            "is_error": true,
                        ],
                        ["type": "text", "text": "Guess, then."],
                    ],
                ],
            ],
        ]
        let request = try MessagesRequest.modelRequest(params: try #require(params.objectValue))
        #expect(request.tools.map(\.name) == ["weather"] && request.tools[0].parameters == Self.parameters)
        #expect(request.toolChoice == .required && request.parallelToolCalls == false)
        #expect(request.messages.map(\.role) == [.user, .assistant, .tool, .user])
        #expect(request.messages[0].parts.first == .document(DocumentPart(source: .text("Oslo: rain."), title: "notes")))
        #expect(
            request.messages[1].parts == [
                .text("Checking."), .toolCall(ToolCall(id: "toolu_1", name: "weather", arguments: #"{"city":"Oslo"}"#)),
            ])
        #expect(request.messages[2].parts == [.toolResult(callID: "toolu_1", text: "no data", isError: true)])
        #expect(request.messages[3].content == "Guess, then.")
    }

    @Test func aResponsesLinesFunctionToolsCallsAndOutputsAreRead() throws {
        let body: JSONValue = [
            "model": "gpt-4.1-mini",
            "tools": [["type": "function", "name": "weather", "parameters": Self.parameters]],
            "tool_choice": ["type": "function", "name": "weather"], "parallel_tool_calls": false,
            "input": [
                ["role": "user", "content": "Oslo and Bergen?"],
                ["type": "function_call", "call_id": "c1", "name": "weather", "arguments": #"{"city":"Oslo"}"#],
                ["type": "function_call", "call_id": "c2", "name": "weather", "arguments": #"{"city":"Bergen"}"#],
                ["type": "function_call_output", "call_id": "c1", "output": "rain"],
                ["type": "function_call_output", "call_id": "c2", "output": "sun"],
            ],
        ]
        let request = try ResponsesRequest.modelRequest(body: try #require(body.objectValue))
        #expect(request.tools.map(\.name) == ["weather"] && request.toolChoice == .tool("weather") && request.parallelToolCalls == false)
        #expect(request.messages.map(\.role) == [.user, .assistant, .tool, .tool], "calls made together are one turn")
        #expect(request.messages[1].toolCalls.map(\.id) == ["c1", "c2"])
        #expect(request.messages[3].parts == [.toolResult(callID: "c2", text: "sun", isError: false)])
        var orphan = try #require(body.objectValue)
        orphan["input"] = [["role": "user", "content": "x"], ["type": "function_call_output", "call_id": "c9", "output": "?"]]
        #expect(throws: SpecError(field: "input[1].call_id", message: "must answer a function_call an earlier item made")) {
            try ResponsesRequest.modelRequest(body: orphan)
        }
    }

    /// `none` forbids a call in both shapes (and is no absent choice).
    @Test func noneForbidsACall() throws {
        let tools: JSONValue = [["type": "function", "function": ["name": "weather"]]]
        let chat = try ChatCompletionsRequest.modelRequest(
            body: JSONObject([("model", "m"), ("tools", tools), ("tool_choice", "none"), ("messages", [["role": "user", "content": "x"]])]))
        #expect(chat.toolChoice == .never)
        let messages = try MessagesRequest.modelRequest(
            params: JSONObject([
                ("model", "c"), ("max_tokens", 5), ("tools", [["name": "weather"]]), ("tool_choice", ["type": "none"]),
                ("messages", [["role": "user", "content": "x"]]),
            ]))
        #expect(messages.toolChoice == .never)
    }

    @Test func whatCannotBeCarriedIsRefusedAtItsField() {
        func chat(_ extra: JSONObject, messages: JSONValue = [["role": "user", "content": "hi"]]) -> SpecError? {
            var body = JSONObject([("model", "m"), ("messages", messages)])
            for (key, value) in extra { body[key] = value }
            do {
                _ = try ChatCompletionsRequest.modelRequest(body: body)
                return nil
            } catch { return error }
        }
        #expect(chat(JSONObject([("tools", [["type": "web_search"]])]))?.field == "tools[0].type")
        #expect(chat(JSONObject([("tools", [["type": "function", "function": ["name": "a b"]]])]))?.field == "tools[0].function.name")
        #expect(
            chat(
                JSONObject([
                    ("tools", [["type": "function", "function": ["name": "a"]]]),
                    ("tool_choice", ["type": "function", "function": ["name": "b"]]),
                ]))?.message == "must name one of the request's tools")
        #expect(chat(JSONObject([("parallel_tool_calls", "yes")]))?.field == "parallel_tool_calls")
        #expect(
            chat(JSONObject(), messages: [["role": "user", "content": "hi"], ["role": "tool", "tool_call_id": "nope", "content": "x"]])
                == SpecError(field: "messages[1].tool_call_id", message: "must answer a tool call an earlier assistant message made"))
        #expect(
            chat(JSONObject(), messages: [["role": "user", "content": [["type": "file", "file": ["file_id": "file-1"]]]]])?.message
                == "a file part needs its file_data (a file_id is not read in a batch)")

        func messages(_ params: JSONObject) -> SpecError? {
            var all = JSONObject([("model", "c"), ("max_tokens", 5), ("messages", [["role": "user", "content": "x"]])])
            for (key, value) in params { all[key] = value }
            do {
                _ = try MessagesRequest.modelRequest(params: all)
                return nil
            } catch { return error }
        }
        #expect(messages(JSONObject([("tools", [["type": "web_search_20250305", "name": "web_search"]])]))?.field == "tools.0.type")
        #expect(
            messages(JSONObject([("tools", [["name": "a"]]), ("tool_choice", ["type": "tool", "name": "b"])]))?.field == "tool_choice.name")
        #expect(
            messages(
                JSONObject([("messages", [["role": "user", "content": [["type": "tool_result", "tool_use_id": "t9", "content": "x"]]]])]))
                == SpecError(field: "messages.0.content", message: "tool_result t9 answers no tool_use of the turn before"))
    }
}
