import Foundation
import SluiceCore
import SluiceTestSupport
import Testing
import ZIPFoundation

@testable import SluiceIngest
@testable import SluiceSpreadsheet

/// Workbooks written by real spreadsheet programs (Tests/Fixtures: `libreoffice.xlsx` is
/// LibreOffice's conversion of `libreoffice.csv`; `openpyxl.xlsx` has several sheets and
/// formatted cells), and the workbooks Sluice writes itself.
@Suite struct SpreadsheetTests {
    func records(_ file: String, sheet: String? = nil) throws -> [JSONObject] {
        let parser = try RecordParsers.open(
            path: DocumentFixtures.fixture(file), name: file, format: .xlsx, options: InputOptions(format: .xlsx, sheet: sheet))
        var records: [JSONObject] = []
        while let step = try parser.next() {
            guard case .record(let record) = step else { Issue.record("\(step)"); continue }
            records.append(record.fields)
        }
        return records
    }

    @Test func aLibreOfficeSheetReadsAsItsCellsShowIt() throws {
        let rows = try records("libreoffice.xlsx")
        #expect(rows.count == 3)
        #expect(rows[0].keys == ["id", "text", "date", "amount", "share", "note"])
        #expect(rows[0]["text"] == "Great coffee, friendly staff")
        #expect(rows[0]["date"] == "2024-03-05", "a date stays the date shown, not its serial number")
        #expect(rows[0]["amount"] == "979.8")
        #expect(rows[0]["share"] == "12.00%", "LibreOffice read 12% as 0.12 shown as 0.00%")
        #expect(rows[0]["note"] == "Café «ok»")
        #expect(rows[1]["note"] == "", "an empty cell is an empty field")
        #expect(rows[2]["text"] == "She said \"wow\" twice")
        #expect(rows[2]["date"] == "1999-12-31" && rows[2]["amount"] == "1234567")
    }

    @Test func aNamedSheetWithFormattedCells() throws {
        let rows = try records("openpyxl.xlsx", sheet: "Orders")
        #expect(rows.count == 2)
        #expect(rows[0]["placed"] == "2025-01-31")
        #expect(rows[0]["time"] == "2:05 PM")
        #expect(rows[0]["total"] == "1,234.50")
        #expect(rows[0]["paid"] == "TRUE")
        #expect(rows[1]["total"] == "25.00%")
        #expect(try records("openpyxl.xlsx").first?["note"] == "see the Orders sheet", "the first sheet by default")
    }

    @Test(
        arguments: [
            ("openpyxl.xlsx", "Missing", "the workbook has no sheet named 'Missing' (its sheets: Summary, Orders, Numbers, Empty)"),
            (
                "openpyxl.xlsx", "Numbers",
                "the first row holds only numbers, so sheet 'Numbers' seems to have no header row naming its columns"
            ),
            ("openpyxl.xlsx", "Empty", "sheet 'Empty' is empty: it needs a header row naming its columns"),
            ("truncated.pdf", nil, "not an .xlsx workbook (it is not a ZIP archive)"),
        ] as [(String, String?, String)])
    func aWorkbookThatCannotBeReadSaysWhy(file: String, sheet: String?, message: String) {
        #expect {
            try records(file, sheet: sheet)
        } throws: { error in
            (error as? InputProblem)?.message == message
        }
    }

    @Test func whatSluiceWritesReadsBackTyped() throws {
        let directory = TemporaryDirectory()
        let writer = try XLSXWriter(sheetName: "Results")
        try writer.addRow([.text("name"), .text("score"), .text("ok"), .text("note")])
        for number in 0..<5000 {
            try writer.addRow([.text("row <\(number)> & \"more\""), .number(Double(number) + 0.5), .bool(number % 2 == 0), .empty])
        }
        let file = URL(fileURLWithPath: directory.path("out.xlsx"))
        try writer.finish(to: file)
        let reader = try XLSXSheetReader(path: file.path, sheet: nil)
        #expect(reader.sheetName == "Results")
        #expect(try reader.nextRow() == XLSXRow(number: 1, cells: ["name", "score", "ok", "note"]))
        var count = 0
        while let row = try reader.nextRow() {
            #expect(
                row.cells == ["row <\(count)> & \"more\"", CellFormat.generalText(Double(count) + 0.5), count % 2 == 0 ? "TRUE" : "FALSE"])
            count += 1
        }
        #expect(count == 5000)
    }

    @Test func aWorkbookPastItsLimitsIsRefusedNamingThem() throws {
        let directory = TemporaryDirectory()
        // Seventeen 1 MiB cells: a row of more text than one record may hold.
        let wide = try XLSXWriter()
        try wide.addRow((0..<17).map { _ in .text(String(repeating: "w", count: 1 << 20)) })
        let wideFile = URL(fileURLWithPath: directory.path("wide.xlsx"))
        try wide.finish(to: wideFile)
        let reader = try XLSXSheetReader(path: wideFile.path, sheet: nil)
        #expect(throws: XLSXError("the row holds more than 16 MiB of text, the limit of one row", row: 1)) { try reader.nextRow() }
        // Shared strings that unzip past the part limit from a file of a few hundred kilobytes.
        let bomb = try XLSXWriter()
        try bomb.addRow([.text("a")])
        let bombFile = URL(fileURLWithPath: directory.path("bomb.xlsx"))
        try bomb.finish(to: bombFile)
        let archive = try Archive(url: bombFile, accessMode: .update)
        let size = XLSXSheetReader.maxPartBytes + 1
        try archive.addEntry(with: "xl/sharedStrings.xml", type: .file, uncompressedSize: Int64(size), compressionMethod: .deflate) {
            position, count in Data(repeating: 0x20, count: min(count, size - Int(position)))
        }
        let compressed = try FileManager.default.attributesOfItem(atPath: bombFile.path)[.size] as? Int ?? .max
        #expect(compressed < 1 << 20)
        #expect(throws: XLSXError("the workbook's xl/sharedStrings.xml unzips to more than 64 MiB, the limit of one part")) {
            _ = try XLSXSheetReader(path: bombFile.path, sheet: nil)
        }
    }
}

@Suite struct CellFormatTests {
    @Test func numbersShowAsTheirFormatSays() {
        #expect(CellFormat.general.text(3) == "3")
        #expect(CellFormat.general.text(0.1) == "0.1")
        #expect(CellFormat(id: 2, code: nil).text(3.5) == "3.50")
        #expect(CellFormat(id: 4, code: nil).text(-1234567.891) == "-1,234,567.89")
        #expect(CellFormat(id: 10, code: nil).text(0.1234) == "12.34%")
        #expect(CellFormat(code: "0.000").text(2) == "2.000")
    }

    @Test func datesAndTimesShowAsTheirFormatSays() {
        #expect(CellFormat(code: "yyyy\\-mm\\-dd").text(45356) == "2024-03-05")
        #expect(CellFormat(code: "dd/mm/yyyy hh:mm").text(45356.75) == "05/03/2024 18:00")
        #expect(CellFormat(code: "d mmmm yyyy").text(1) == "31 December 1899")
        #expect(CellFormat(code: "[$-409]mmm d, yyyy;@").text(45356) == "Mar 5, 2024")
        #expect(CellFormat(id: 14, code: nil).text(0, date1904: true) == "1904-01-01")
        #expect(CellFormat(code: "h:mm:ss AM/PM").text(0.5) == "12:00:00 PM")
    }
}

@Suite struct XMLPullReaderTests {
    func events(_ xml: String) throws -> [XMLEvent] {
        var reader = XMLPullReader(data: Data(xml.utf8))
        var events: [XMLEvent] = []
        while let event = try reader.next() { events.append(event) }
        return events
    }

    @Test func readsTagsAttributesTextAndEntities() throws {
        let xml = """
            <?xml version="1.0"?><!-- a comment --><x:a b="1 &amp; 2" c='&quot;&gt;'>t &lt;&#233;&#x263A;<![CDATA[<raw>]]><d/></x:a>
            """
        #expect(
            try events(xml) == [
                .start("a", ["b": "1 & 2", "c": "\">"]), .text("t <é☺"), .text("<raw>"), .start("d", [:]), .end("d"), .end("a"),
            ])
    }

    @Test func aTagSplitAcrossChunksReadsWhole() throws {
        let directory = TemporaryDirectory()
        let rows = (0..<20_000).map { "<row r=\"\($0)\"><c t=\"inlineStr\"><is><t>cell &amp; \($0)</t></is></c></row>" }.joined()
        let path = directory.write("big.xml", "<sheetData>" + rows + "</sheetData>")
        var reader = try XMLPullReader(fileAt: URL(fileURLWithPath: path))
        var texts = 0
        var last = ""
        while let event = try reader.next() {
            if case .text(let text) = event {
                texts += 1
                last = text
            }
        }
        #expect(texts == 20_000 && last == "cell & 19999")
    }

    @Test(arguments: ["<a b=1/>", "<a>&nope;</a>", "<!DOCTYPE a [<!ENTITY x \"y\">]><a/>", "<a b=\"open></a>", "<a & </a>"])
    func refusesWhatItCannotRead(xml: String) {
        #expect(throws: XLSXError.self) { try events(xml) }
    }
}
