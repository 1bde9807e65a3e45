import Foundation
import SluiceCore
import Testing

@testable import SluiceIngest

@Suite struct CSVTests {
    @Test func aRecordPastItsSizeOrFieldLimitStopsTheParseAtItsLine() {
        // Read in 64 KiB chunks only: a byte at a time, 16 MiB would take minutes.
        func parsed(_ text: String) -> ParseResult { ParseResult.of(Array(text.utf8), format: .csv, chunkSizes: [64 * 1024]) }
        let endless = parsed("text\nok\n" + String(repeating: "a", count: RecordLimit.bytes + 1) + "\n")
        #expect(
            endless.fatal?.line == 3 && endless.fatal?.message.contains("longer than 16 MiB") == true,
            "\(String(describing: endless.fatal))")
        let open = parsed("text\n\"" + String(repeating: "b", count: RecordLimit.bytes + (1 << 20)))
        #expect(open.fatal?.line == 2 && open.fatal?.message.contains("longer than 16 MiB") == true, "\(String(describing: open.fatal))")
        let wide = parsed("a\n" + String(repeating: ",", count: CSVRecordParser.maxFields + 1) + "\n")
        #expect(wide.fatal?.line == 2 && wide.fatal?.message.contains("more than 10000 fields") == true)
        #expect(parsed("a\n" + String(repeating: ",", count: CSVRecordParser.maxFields - 1) + "\n").fatal == nil)
    }

    @Test func pdftotextGetsAMinimalEnvironmentNeverTheServers() throws {
        setenv("SLUICE_TEST_SECRET", "do-not-leak", 1)
        let run = try Sandbox.run("/usr/bin/env", arguments: [], timeoutSeconds: 30, maximumOutput: 1 << 16)
        let lines = String(decoding: run.output, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(lines == Sandbox.environment)
    }
    @Test func readsHeaderAndRowsKeepingColumnOrder() throws {
        let result = ParseResult.of("b,a,c\n1,2,3\n4,5,6\n", format: .csv)
        #expect(result.fatal == nil && result.problems.isEmpty)
        #expect(result.records.first?.fields.keys == ["b", "a", "c"])
        #expect(result.rows == [["1", "2", "3"], ["4", "5", "6"]])
        #expect(result.lines == [2, 3])
    }

    @Test func quotedFieldsWithDoubledQuotesDelimitersAndNewlines() {
        let result = ParseResult.of("id,text\n1,\"a \"\"quoted\"\", word\"\n2,\"two\nlines\"\n3,plain\n", format: .csv)
        #expect(result.problems.isEmpty)
        #expect(result.rows == [["1", "a \"quoted\", word"], ["2", "two\nlines"], ["3", "plain"]])
        #expect(result.lines == [2, 3, 5])
    }

    @Test func crlfAndLFAndNoFinalNewline() {
        #expect(ParseResult.of("a,b\r\n1,2\r\n3,4", format: .csv).rows == [["1", "2"], ["3", "4"]])
        #expect(ParseResult.of("a,b\r\n1,\"x\r\ny\"\r\n", format: .csv).rows == [["1", "x\r\ny"]])
    }

    @Test func skipsAByteOrderMark() {
        let result = ParseResult.of([0xEF, 0xBB, 0xBF] + Array("name\nAda\n".utf8), format: .csv)
        #expect(result.records.first?.fields.keys == ["name"])
        #expect(result.rows == [["Ada"]])
    }

    @Test func configurableDelimiter() {
        let result = ParseResult.of("a;b\n\"x;y\";2\n", format: .csv, options: InputOptions(delimiter: UInt8(ascii: ";")))
        #expect(result.rows == [["x;y", "2"]])
    }

    @Test func emptyFieldsAndBlankLines() {
        let result = ParseResult.of("a,b,c\n,,\n\n1,,3\n", format: .csv)
        #expect(result.rows == [["", "", ""], ["1", "", "3"]])
        #expect(result.lines == [2, 4])
    }

    @Test func raggedRowsAreReportedWithTheirLineAndSkipped() {
        let result = ParseResult.of("a,b\n1,2\n3\n4,5,6\n7,8\n", format: .csv)
        #expect(result.rows == [["1", "2"], ["7", "8"]])
        #expect(
            result.problems == [
                InputProblem(line: 3, message: "expected 2 fields as in the header, found 1"),
                InputProblem(line: 4, message: "expected 2 fields as in the header, found 3"),
            ])
    }

    @Test func unclosedQuoteStopsWithItsPosition() {
        let result = ParseResult.of("a,b\n1,2\n3,\"never\nends\n", format: .csv)
        #expect(result.fatal == InputProblem(line: 3, column: 3, message: "unclosed quote: the quoted field never ends"))
    }

    @Test func strayQuotesAreProblems() {
        let inside = ParseResult.of("a,b\n1,x\"y\n", format: .csv)
        #expect(inside.problems.first?.line == 2)
        #expect(inside.problems.first?.column == 4)
        let after = ParseResult.of("a,b\n1,\"x\"y\n", format: .csv)
        #expect(after.problems.first?.message == "unexpected character after a closing quote")
    }

    @Test func invalidUTF8IsReportedPerRow() {
        let result = ParseResult.of(Array("a,b\n1,".utf8) + [0xC3, 0x28] + Array("\n2,ok\n".utf8), format: .csv)
        #expect(result.problems == [InputProblem(line: 2, column: 3, message: "invalid UTF-8 in field 2")])
        #expect(result.rows == [["2", "ok"]])
    }

    @Test func emptyFileAndBadHeaders() {
        #expect(ParseResult.of("", format: .csv).fatal == InputProblem(line: 1, message: "the file is empty"))
        #expect(ParseResult.of("a,,c\n", format: .csv).fatal == InputProblem(line: 1, message: "header column 2 has no name"))
        #expect(ParseResult.of("a,b,a\n", format: .csv).fatal == InputProblem(line: 1, message: "header column 3 repeats the name 'a'"))
        let headerOnly = ParseResult.of("a,b\n", format: .csv)
        #expect(headerOnly.fatal == nil && headerOnly.records.isEmpty)
    }
}
