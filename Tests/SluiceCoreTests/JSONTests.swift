import Testing

@testable import SluiceCore

@Suite struct JSONParserTests {
    @Test func parsesEveryKindOfValueAndKeepsMemberOrder() throws {
        let value = try JSONParser.parse(#"{"z": 1, "a": [true, false, null], "m": {"x": -2.5e2, "y": "t\u00e9\n\"q\""}}"#)
        #expect(value.objectValue?.keys == ["z", "a", "m"])
        #expect(value["z"] == .int(1))
        #expect(value["a"] == [true, false, nil])
        #expect(value["m"]?["x"] == .double(-250))
        #expect(value["m"]?["y"] == .string("té\n\"q\""))
    }

    @Test func decodesSurrogatePairs() throws {
        #expect(try JSONParser.parse(#""\ud83d\ude00""#) == .string("😀"))
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(#""\ud83d""#) }
    }

    @Test(arguments: [
        ("{\"a\": 1,}", 1, 9, "expected a string key"),
        ("[1, 2", 1, 6, "unexpected end of JSON inside an array"),
        ("{\n  \"a\": tru\n}", 2, 8, "invalid literal"),
        ("[01]", 1, 2, "leading zero in a number"),
        ("\"abc", 1, 1, "unterminated string"),
        ("{} x", 1, 4, "unexpected text after the JSON value"),
        ("", 1, 1, "unexpected end of JSON"),
    ])
    func reportsLineAndColumn(text: String, line: Int, column: Int, message: String) {
        #expect(throws: JSONParser.Failure(line: line, column: column, message: message)) { try JSONParser.parse(text) }
    }

    @Test func countsPositionsFromTheOrigin() {
        #expect(throws: JSONParser.Failure(line: 11, column: 2, message: "unexpected character '}'")) {
            try JSONParser.parse(Array("\n }".utf8), origin: .init(line: 10, column: 5))
        }
    }

    @Test func refusesInvalidUTF8AndControlCharacters() {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse("\"a\u{01}b\"") }
    }

    @Test func refusesExcessiveNesting() {
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(deep) }
    }

    @Test func writerRoundTripsAndEscapes() throws {
        let value: JSONValue = ["b": "line\nbreak \"quoted\" \u{01}", "a": [1, 2.5, nil, true], "c": ["n": 3.0]]
        let text = JSONWriter.string(value)
        #expect(text == #"{"b":"line\nbreak \"quoted\" \u0001","a":[1,2.5,null,true],"c":{"n":3.0}}"#)
        #expect(try JSONParser.parse(text) == value)
    }
}
