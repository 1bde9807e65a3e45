import SluiceCore
import Testing

@testable import SluiceIngest

@Suite struct JSONArrayTests {
    @Test func readsATopLevelArray() {
        let result = ParseResult.of("[\n {\"b\": 1, \"a\": \"x\"},\n {\"b\": 2, \"a\": \"y, ]\"}\n]\n", format: .json)
        #expect(result.fatal == nil && result.problems.isEmpty)
        #expect(result.records.map(\.fields) == [JSONObject([("b", 1), ("a", "x")]), JSONObject([("b", 2), ("a", "y, ]")])])
        #expect(result.lines == [2, 3])
    }

    @Test func findsTheOneArrayMemberOfAnObject() {
        let result = ParseResult.of(
            #"{"source": "crm", "meta": {"n": [1]}, "conversations": [{"id": 1}, {"id": 2}], "done": true}"#, format: .json)
        #expect(result.fatal == nil)
        #expect(result.records.count == 2)
    }

    @Test func aNamedMemberChoosesAmongArrays() {
        let text = #"{"tags": ["x"], "rows": [{"id": 1}]}"#
        #expect(ParseResult.of(text, format: .json, options: InputOptions(records: "rows")).records.count == 1)
        let ambiguous = ParseResult.of(#"{"rows": [{"id": 1}], "more": [{"id": 2}]}"#, format: .json)
        #expect(ambiguous.fatal?.message.contains("more than one array") == true)
        let missing = ParseResult.of(text, format: .json, options: InputOptions(records: "items"))
        #expect(missing.fatal?.message == "the top-level object has no member 'items' holding an array of records")
    }

    @Test func nonObjectRecordsAreProblems() {
        let result = ParseResult.of("[{\"a\": 1}, 2, \"x\", {\"a\": 3}]", format: .json)
        #expect(result.records.count == 2)
        #expect(result.problems.map(\.message) == ["record 2 is an integer, not an object", "record 3 is a string, not an object"])
    }

    @Test func invalidJSONStopsWithLineAndColumn() {
        let result = ParseResult.of("[\n {\"a\": 1},\n {\"a\": tru}\n]", format: .json)
        #expect(result.records.count == 1)
        #expect(result.fatal == InputProblem(line: 3, column: 8, message: "invalid literal"))
        let missingComma = ParseResult.of("[{\"a\": 1}\n{\"a\": 2}]", format: .json)
        #expect(missingComma.fatal == InputProblem(line: 2, column: 1, message: "expected ',' or ']' after a record"))
        let trailing = ParseResult.of("[{\"a\": 1}] x", format: .json)
        #expect(trailing.fatal?.message == "unexpected text after the end of the JSON value")
        let unfinished = ParseResult.of("[{\"a\": 1},", format: .json)
        #expect(unfinished.fatal != nil)
        let trailingComma = ParseResult.of("[{\"a\": 1},]", format: .json)
        #expect(trailingComma.fatal == InputProblem(line: 1, column: 11, message: "expected a value"))
    }

    @Test func emptyAndWrongShapes() {
        #expect(ParseResult.of("  \n", format: .json).fatal == InputProblem(line: 1, message: "the file is empty"))
        #expect(ParseResult.of("42", format: .json).fatal?.message == "expected a JSON array of records or an object holding one")
        #expect(
            ParseResult.of("{\"a\": 1}", format: .json).fatal?.message == "the top-level object has no array member holding the records")
        #expect(ParseResult.of("[]", format: .json).records.isEmpty)
        #expect(ParseResult.of([0x5B, 0x22, 0xC3, 0x28, 0x22, 0x5D], format: .json).fatal?.message == "invalid UTF-8 in a string")
    }
}

@Suite struct JSONLinesTests {
    @Test func readsObjectsAndSkipsBlankLines() {
        let result = ParseResult.of("{\"a\": 1}\n\n  \n{\"a\": 2}\r\n", format: .jsonl)
        #expect(result.records.map(\.fields) == [JSONObject([("a", 1)]), JSONObject([("a", 2)])])
        #expect(result.lines == [1, 4])
    }

    @Test func badLinesAreReportedAndSkipped() {
        let result = ParseResult.of("{\"a\": 1}\n{\"a\": \n[1]\n{\"a\": 3}\n", format: .jsonl)
        #expect(result.records.count == 2)
        #expect(
            result.problems == [
                InputProblem(line: 2, column: 7, message: "unexpected end of JSON"),
                InputProblem(line: 3, message: "expected a JSON object, found array"),
            ])
        #expect(ParseResult.of("\n\n", format: .jsonl).fatal == InputProblem(line: 1, message: "the file is empty"))
    }
}

@Suite struct TextTests {
    @Test func wholeFileIsOneItem() {
        let result = ParseResult.of("\nTitle\n\nBody text.\n\n", format: .text)
        #expect(result.records == [IngestRecord(fields: JSONObject([("text", "Title\n\nBody text.")]), line: 2)])
    }

    @Test func paragraphsAreItems() {
        let result = ParseResult.of("one\nstill one\n\n\ntwo\n", format: .text, options: InputOptions(textMode: .paragraphs))
        #expect(result.rows == [["one\nstill one"], ["two"]])
        #expect(result.lines == [1, 5])
    }

    @Test func invalidUTF8AndEmptyFiles() {
        let result = ParseResult.of(Array("ok\n".utf8) + [0xFF] + Array("\n".utf8), format: .text)
        #expect(result.problems == [InputProblem(line: 2, message: "invalid UTF-8")])
        #expect(ParseResult.of(" \n", format: .text).fatal == InputProblem(line: 1, message: "the file is empty"))
    }
}

@Suite struct ItemBuilderTests {
    let spec = try! JobSpec.parse(["template": "{{message}} {{meta.lang}}", "group_by": "chat"], preset: { _ in nil })

    @Test func numbersItemsAndDerivesGroups() throws {
        var builder = ItemBuilder(spec: spec)
        let first = try builder.item(
            from: IngestRecord(fields: JSONObject([("chat", 7), ("message", "hi"), ("meta", ["lang": "en"])]), line: 2)
        ).get()
        let second = try builder.item(
            from: IngestRecord(fields: JSONObject([("chat", ""), ("message", "x"), ("meta", ["lang": "fr"])]), line: 3)
        ).get()
        #expect(first.index == 0 && first.groupKey == "7")
        #expect(second.index == 1 && second.groupKey == nil)
    }

    /// A header without an image column fails the file; a row whose cell is no image fails
    /// alone, with the reason, and an empty cell is a row without an image.
    @Test func imageColumnsAreCheckedInTheHeaderAndEachRow() throws {
        var builder = ItemBuilder(spec: try JobSpec.parse(["template": "{{name}}", "images": ["photo", "back"]], preset: { _ in nil }))
        #expect(builder.checkColumns(["name", "photo"])?.message == "the images are in the column 'back', which the header does not have")
        #expect(builder.checkColumns(["name", "photo", "back"]) == nil)
        func item(_ photo: String) throws -> NewItem {
            try builder.item(from: IngestRecord(fields: JSONObject([("name", "x"), ("photo", .string(photo)), ("back", "")]), line: 2))
                .get()
        }
        #expect(try item("https://x.test/1.jpg").failure == nil)
        #expect(try item("").failure == nil)
        #expect(
            try item("photos/1.jpg").failure
                == "photo: 'photos/1.jpg' is neither an http(s) URL nor a data: URI (a file's path needs the file uploaded with the table, in a .zip)"
        )
        #expect(
            try item("data:image/png;base64,JVBERi0xLjcKJeLjz9MK").failure?.hasSuffix(
                "holds no PNG, JPEG, GIF or WebP image (read by its bytes)") == true)
    }

    @Test func refusesRecordsAndHeadersMissingTemplateFields() {
        var builder = ItemBuilder(spec: spec)
        let result = builder.item(from: IngestRecord(fields: JSONObject([("message", "hi")]), line: 9))
        #expect(throws: InputProblem(line: 9, message: "the template needs the field 'meta.lang', which this record does not have")) {
            try result.get()
        }
        #expect(
            builder.checkColumns(["chat", "text"])?.message
                == "the template needs the fields 'message', 'meta.lang', which the header does not have")
        #expect(builder.checkColumns(["message", "meta"]) == nil)
    }
}
