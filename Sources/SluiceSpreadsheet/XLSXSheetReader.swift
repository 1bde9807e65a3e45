import Foundation
import ZIPFoundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// One row of a sheet: its number (as the spreadsheet shows it) and its cells' text by column,
/// blanks for the gaps.
public struct XLSXRow: Sendable, Equatable {
    public var number: Int
    public var cells: [String]

    public init(number: Int, cells: [String]) {
        self.number = number
        self.cells = cells
    }
}

/// Reads one sheet of an `.xlsx` workbook row by row, every cell as the text it shows.
///
/// Streamed: the sheet's XML is unzipped to a temporary file and read by a SAX parser on a
/// thread of its own, which hands rows over through a small bounded queue — so a 100,000-row
/// sheet never has more than a few hundred rows in memory. The workbook's shared strings are
/// held (cells refer to them by number), once each.
public final class XLSXSheetReader {
    public let sheetName: String
    let channel = RowChannel(capacity: 256)
    let folder: URL

    /// Opens `sheet` (the first sheet when `nil`) of the workbook at `path`.
    public init(path: String, sheet: String?) throws(XLSXError) {
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw XLSXError("not an .xlsx workbook (it is not a ZIP archive)")
        }
        guard let workbook = try Self.data(archive, "xl/workbook.xml") else {
            throw XLSXError("not an .xlsx workbook (it has no xl/workbook.xml)")
        }
        let workbookTags = try XMLScan.tags(in: workbook, named: ["sheet", "workbookPr"])
        let date1904 = workbookTags.first { $0.name == "workbookPr" }.map { ["1", "true"].contains($0.attributes["date1904"] ?? "") } ?? false
        let sheets = workbookTags.filter { $0.name == "sheet" }.compactMap { tag -> (name: String, id: String)? in
            guard let name = tag.attributes["name"], let id = tag.attributes.first(where: { XMLScan.localName($0.key) == "id" })?.value
            else { return nil }
            return (name, id)
        }
        guard !sheets.isEmpty else { throw XLSXError("the workbook has no sheets") }
        let chosen: (name: String, id: String)
        if let sheet {
            guard let match = sheets.first(where: { $0.name == sheet }) ?? sheets.first(where: { $0.name.lowercased() == sheet.lowercased() })
            else {
                throw XLSXError("the workbook has no sheet named '\(sheet)' (its sheets: \(sheets.map(\.name).joined(separator: ", ")))")
            }
            chosen = match
        } else {
            chosen = sheets[0]
        }
        sheetName = chosen.name
        var relations: [XMLScan.Tag] = []
        if let data = try Self.data(archive, "xl/_rels/workbook.xml.rels") { relations = try XMLScan.tags(in: data, named: ["Relationship"]) }
        guard let target = relations.first(where: { $0.attributes["Id"] == chosen.id })?.attributes["Target"] else {
            throw XLSXError("the workbook is damaged (sheet '\(chosen.name)' has no part)")
        }
        let sheetPath = target.hasPrefix("/") ? String(target.dropFirst()) : "xl/" + target
        var formats = CellStyles()
        if let data = try Self.data(archive, "xl/styles.xml") { formats = try CellStyles(data: data) }
        let strings: [String]
        if let shared = try Self.data(archive, "xl/sharedStrings.xml", limit: 512 << 20) {
            let collector = SharedStringsCollector()
            let parser = XMLParser(data: shared)
            parser.delegate = collector
            guard parser.parse() else { throw XLSXError("the workbook is damaged (its shared strings cannot be read)") }
            strings = collector.strings
        } else {
            strings = []
        }
        guard let entry = archive[sheetPath] else { throw XLSXError("the workbook is damaged (it has no \(sheetPath))") }
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-xlsx-\(UUID().uuidString)")
        let sheetFile = folder.appendingPathComponent("sheet.xml")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: sheetFile.path, contents: nil)
            let handle = try FileHandle(forWritingTo: sheetFile)
            defer { try? handle.close() }
            _ = try archive.extract(entry, skipCRC32: false) { chunk in try handle.write(contentsOf: chunk) }
        } catch {
            try? FileManager.default.removeItem(at: folder)
            throw XLSXError("the workbook is damaged (sheet '\(chosen.name)' cannot be unzipped)")
        }
        let channel = self.channel
        let cells = SheetCells(strings: strings, styles: formats, date1904: date1904)
        Thread.detachNewThread {
            guard let stream = InputStream(url: sheetFile) else {
                channel.finish(XLSXError("the sheet cannot be read"))
                return
            }
            let parser = XMLParser(stream: stream)
            let delegate = SheetRowParser(cells: cells, channel: channel)
            parser.delegate = delegate
            let parsed = parser.parse()
            if channel.isCancelled { return }
            channel.finish(parsed ? delegate.problem : (delegate.problem ?? XLSXError("the sheet's XML is damaged", row: delegate.rowNumber)))
        }
    }

    deinit {
        channel.cancel()
        try? FileManager.default.removeItem(at: folder)
    }

    /// The next row with any cell, or `nil` after the last.
    public func nextRow() throws(XLSXError) -> XLSXRow? {
        try channel.next()
    }

    /// An entry's bytes, or `nil` when the archive has no such entry.
    static func data(_ archive: Archive, _ path: String, limit: Int = 64 << 20) throws(XLSXError) -> Data? {
        guard let entry = archive[path] else { return nil }
        guard entry.uncompressedSize <= UInt64(limit) else { throw XLSXError("the workbook's \(path) is larger than \(limit >> 20) MiB") }
        var data = Data()
        do {
            _ = try archive.extract(entry) { data.append($0) }
        } catch {
            throw XLSXError("the workbook is damaged (\(path) cannot be unzipped)")
        }
        return data
    }
}

/// Number formats by cell style index (`s`), from `styles.xml`'s `cellXfs`.
struct CellStyles: Sendable {
    var formats: [CellFormat] = []

    init() {}

    init(data: Data) throws(XLSXError) {
        let collector = StylesCollector()
        let parser = XMLParser(data: data)
        parser.delegate = collector
        guard parser.parse() else { throw XLSXError("the workbook is damaged (its styles cannot be read)") }
        formats = collector.styleFormats.map { CellFormat(id: $0, code: collector.codes[$0]) }
    }

    func format(style: Int?) -> CellFormat {
        guard let style, formats.indices.contains(style) else { return .general }
        return formats[style]
    }
}

final class StylesCollector: NSObject, XMLParserDelegate {
    var codes: [Int: String] = [:]
    var styleFormats: [Int] = []
    var inCellXfs = false

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        switch XMLScan.localName(elementName) {
        case "numFmt":
            if let id = attributes["numFmtId"].flatMap(Int.init), let code = attributes["formatCode"] { codes[id] = code }
        case "cellXfs": inCellXfs = true
        case "xf" where inCellXfs: styleFormats.append(attributes["numFmtId"].flatMap(Int.init) ?? 0)
        default: break
        }
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        if XMLScan.localName(elementName) == "cellXfs" { inCellXfs = false }
    }
}

/// What turns a cell's raw value into its text.
struct SheetCells: Sendable {
    var strings: [String]
    var styles: CellStyles
    var date1904: Bool

    func text(type: String?, style: Int?, value: String, inline: String, row: Int) throws(XLSXError) -> String {
        switch type {
        case "s":
            guard let index = Int(value), strings.indices.contains(index) else {
                throw XLSXError("a cell refers to shared string \(value), which the workbook does not have", row: row)
            }
            return strings[index]
        case "inlineStr": return inline
        case "str", "e", "d": return value
        case "b": return value == "1" || value.lowercased() == "true" ? "TRUE" : "FALSE"
        default:
            guard !value.isEmpty else { return "" }
            guard let number = Double(value) else { return value }
            return styles.format(style: style).text(number, date1904: date1904)
        }
    }
}

/// Builds rows from the sheet's XML events and hands them to the reader.
final class SheetRowParser: NSObject, XMLParserDelegate {
    let cells: SheetCells
    let channel: RowChannel
    var rowNumber = 0
    var row: [String] = []
    var column = 0
    var cellType: String?
    var cellStyle: Int?
    var value = ""
    var inline = ""
    var capture: Capture = .none
    var problem: XLSXError?

    enum Capture { case none, value, inline }

    init(cells: SheetCells, channel: RowChannel) {
        self.cells = cells
        self.channel = channel
    }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        switch XMLScan.localName(elementName) {
        case "row":
            rowNumber = attributes["r"].flatMap(Int.init) ?? rowNumber + 1
            row = []
            column = 0
        case "c":
            column = attributes["r"].flatMap(Self.column(ofReference:)) ?? column + 1
            cellType = attributes["t"]
            cellStyle = attributes["s"].flatMap(Int.init)
            value = ""
            inline = ""
        case "v": capture = .value
        case "t": if cellType == "inlineStr" { capture = .inline }
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        switch capture {
        case .value: value += string
        case .inline: inline += string
        case .none: break
        }
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        switch XMLScan.localName(elementName) {
        case "v", "t": capture = .none
        case "c":
            do throws(XLSXError) {
                let text = try cells.text(type: cellType, style: cellStyle, value: value, inline: inline, row: rowNumber)
                guard column >= 1, column <= 16_384 else { throw XLSXError("a cell lies outside the sheet's columns", row: rowNumber) }
                if !text.isEmpty {
                    if row.count < column { row.append(contentsOf: repeatElement("", count: column - row.count)) }
                    row[column - 1] = text
                }
            } catch {
                problem = error
                parser.abortParsing()
            }
        case "row":
            if !row.isEmpty, !channel.push(XLSXRow(number: rowNumber, cells: row)) { parser.abortParsing() }
        default: break
        }
    }

    /// `C7` → 3; `AB12` → 28.
    static func column(ofReference reference: String) -> Int? {
        var column = 0
        for scalar in reference.unicodeScalars {
            guard scalar.value >= 65, scalar.value <= 90 else { break }
            column = column * 26 + Int(scalar.value - 64)
        }
        return column == 0 ? nil : column
    }
}

/// A bounded hand-over of rows from the parsing thread to the reader.
final class RowChannel: @unchecked Sendable {
    private let condition = NSCondition()
    private var rows: [XLSXRow] = []
    private var head = 0
    private var ended = false
    private var failure: XLSXError?
    private var cancelled = false
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    var isCancelled: Bool { condition.withLock { cancelled } }

    /// Waits for room; `false` once the reader has gone.
    func push(_ row: XLSXRow) -> Bool {
        condition.withLock {
            while rows.count - head >= capacity, !cancelled { condition.wait() }
            guard !cancelled else { return false }
            rows.append(row)
            condition.broadcast()
            return true
        }
    }

    func finish(_ problem: XLSXError?) {
        condition.withLock {
            ended = true
            failure = problem
            condition.broadcast()
        }
    }

    func cancel() {
        condition.withLock {
            cancelled = true
            condition.broadcast()
        }
    }

    func next() throws(XLSXError) -> XLSXRow? {
        let result: Result<XLSXRow?, XLSXError> = condition.withLock {
            while head == rows.count, !ended { condition.wait() }
            if head < rows.count {
                let row = rows[head]
                head += 1
                if head > 1024 {
                    rows.removeFirst(head)
                    head = 0
                }
                condition.broadcast()
                return .success(row)
            }
            if let failure { return .failure(failure) }
            return .success(nil)
        }
        return try result.get()
    }
}
