import Foundation
import ZIPFoundation

/// Reads one sheet of an `.xlsx` workbook row by row, every cell as the text it shows.
///
/// Streamed: the sheet's XML is unzipped to a temporary file and read a chunk at a time by a
/// pull parser (``XMLPullReader``), a row per ``nextRow()`` — so a 100,000-row sheet never has
/// more than one row in memory. The workbook's shared strings are held (cells refer to them by
/// number), once each.
public final class XLSXSheetReader {
    public let sheetName: String
    let folder: URL
    var sheet: XMLPullReader
    let cells: SheetCells
    var rowNumber = 0
    /// Cells with a value read so far, for ``maxCells``.
    var cellCount = 0

    /// What one workbook may unzip to, counted as it unzips (the sizes a ZIP entry declares are
    /// the sender's word): the sheet, written to a temporary file, and every other part, read
    /// into memory. A 1.5 MB workbook once unzipped into 1.7 GB of memory.
    public static let maxSheetBytes = 1 << 30
    public static let maxPartBytes = 64 << 20
    /// The text one row may hold, all its cells together (as a CSV record's limit).
    public static let maxRowBytes = 16 << 20
    /// Cells with a value in one sheet.
    public static let maxCells = 20_000_000

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
        let workbookTags = try Self.tags(in: workbook, named: ["sheet", "workbookPr"])
        let date1904 =
            workbookTags.first { $0.name == "workbookPr" }.map { ["1", "true"].contains($0.attributes["date1904"] ?? "") } ?? false
        let sheets = workbookTags.filter { $0.name == "sheet" }.compactMap { tag -> (name: String, id: String)? in
            guard let name = tag.attributes["name"],
                let id = tag.attributes.first(where: { XMLPullReader.localName($0.key) == "id" })?.value
            else { return nil }
            return (name, id)
        }
        guard !sheets.isEmpty else { throw XLSXError("the workbook has no sheets") }
        let chosen: (name: String, id: String)
        if let sheet {
            guard
                let match = sheets.first(where: { $0.name == sheet }) ?? sheets.first(where: { $0.name.lowercased() == sheet.lowercased() })
            else {
                throw XLSXError("the workbook has no sheet named '\(sheet)' (its sheets: \(sheets.map(\.name).joined(separator: ", ")))")
            }
            chosen = match
        } else {
            chosen = sheets[0]
        }
        sheetName = chosen.name
        var relations: [Tag] = []
        if let data = try Self.data(archive, "xl/_rels/workbook.xml.rels") { relations = try Self.tags(in: data, named: ["Relationship"]) }
        guard let target = relations.first(where: { $0.attributes["Id"] == chosen.id })?.attributes["Target"] else {
            throw XLSXError("the workbook is damaged (sheet '\(chosen.name)' has no part)")
        }
        let sheetPath = target.hasPrefix("/") ? String(target.dropFirst()) : "xl/" + target
        var styles = CellStyles()
        if let data = try Self.data(archive, "xl/styles.xml") { styles = try CellStyles(data: data) }
        var strings: [String] = []
        if let shared = try Self.data(archive, "xl/sharedStrings.xml") { strings = try Self.sharedStrings(shared) }
        guard let entry = archive[sheetPath] else { throw XLSXError("the workbook is damaged (it has no \(sheetPath))") }
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-xlsx-\(UUID().uuidString)")
        let sheetFile = folder.appendingPathComponent("sheet.xml")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: sheetFile.path, contents: nil)
            let handle = try FileHandle(forWritingTo: sheetFile)
            defer { try? handle.close() }
            var written = 0
            _ = try archive.extract(entry, skipCRC32: false) { chunk in
                written += chunk.count
                guard written <= Self.maxSheetBytes else { throw PartTooLarge() }
                try handle.write(contentsOf: chunk)
            }
        } catch is PartTooLarge {
            try? FileManager.default.removeItem(at: folder)
            throw XLSXError("sheet '\(chosen.name)' unzips to more than \(Self.maxSheetBytes >> 20) MiB, the limit of one sheet")
        } catch {
            try? FileManager.default.removeItem(at: folder)
            throw XLSXError("the workbook is damaged (sheet '\(chosen.name)' cannot be unzipped)")
        }
        do {
            self.sheet = try XMLPullReader(fileAt: sheetFile)
        } catch {
            try? FileManager.default.removeItem(at: folder)
            throw error
        }
        // The file stays open while it is read; its folder can go now (the data lives until closed).
        try? FileManager.default.removeItem(at: folder)
        cells = SheetCells(strings: strings, styles: styles, date1904: date1904)
    }

    deinit {
        try? FileManager.default.removeItem(at: folder)
    }

    /// The next row with any cell, or `nil` after the last.
    public func nextRow() throws(XLSXError) -> XLSXRow? {
        var row: [String]?
        var rowBytes = 0
        func rowTooLarge() -> XLSXError {
            XLSXError("the row holds more than \(Self.maxRowBytes >> 20) MiB of text, the limit of one row", row: rowNumber)
        }
        var column = 0
        var type: String?
        var style: Int?
        var value = ""
        var inline = ""
        var capture: Capture = .none
        while let event = try sheet.next() {
            switch event {
            case .start("row", let attributes):
                rowNumber = attributes["r"].flatMap(Int.init) ?? rowNumber + 1
                row = []
                column = 0
                rowBytes = 0
            case .start("c", let attributes):
                column = attributes["r"].flatMap(XLSXColumn.number(ofReference:)) ?? column + 1
                guard (1...16_384).contains(column) else { throw XLSXError("a cell lies outside the sheet's columns", row: rowNumber) }
                (type, style, value, inline) = (attributes["t"], attributes["s"].flatMap(Int.init), "", "")
            case .start("v", _): capture = .value
            case .start("t", _): if type == "inlineStr" { capture = .inline }
            case .start("rPh", _): capture = .none
            case .text(let text):
                switch capture {
                case .value: value += text
                case .inline: inline += text
                case .none: break
                }
                if capture != .none, rowBytes + value.utf8.count + inline.utf8.count > Self.maxRowBytes { throw rowTooLarge() }
            case .end("v"), .end("t"): capture = .none
            case .end("c"):
                let text = try cells.text(type: type, style: style, value: value, inline: inline, row: rowNumber)
                if !text.isEmpty, row != nil {
                    // Shared strings are stored once but copied into every row that names them.
                    rowBytes += text.utf8.count
                    cellCount += 1
                    if rowBytes > Self.maxRowBytes { throw rowTooLarge() }
                    if cellCount > Self.maxCells {
                        throw XLSXError(
                            "the sheet has more than \(Self.maxCells) cells with values, the limit of one sheet", row: rowNumber)
                    }
                    if row!.count < column { row!.append(contentsOf: repeatElement("", count: column - row!.count)) }
                    row![column - 1] = text
                }
            case .end("row"):
                if let cells = row, !cells.isEmpty { return XLSXRow(number: rowNumber, cells: cells) }
                row = nil
            default: break
            }
        }
        return nil
    }

    enum Capture { case none, value, inline }

    /// Thrown from an unzip's consumer to stop it at a limit.
    struct PartTooLarge: Error {}

    struct Tag {
        var name: String
        var attributes: [String: String]
    }

    /// The start tags named `names` in a small part (the workbook, its relations, its styles).
    static func tags(in data: Data, named names: Set<String>) throws(XLSXError) -> [Tag] {
        var reader = XMLPullReader(data: data)
        var tags: [Tag] = []
        while let event = try reader.next() {
            if case .start(let name, let attributes) = event, names.contains(name) { tags.append(Tag(name: name, attributes: attributes)) }
        }
        return tags
    }

    /// Each `<si>`'s text, its rich-text runs joined, phonetic hints (`<rPh>`) left out.
    static func sharedStrings(_ data: Data) throws(XLSXError) -> [String] {
        var reader = XMLPullReader(data: data)
        var strings: [String] = []
        var current = ""
        var inText = false
        var inPhonetic = false
        while let event = try reader.next() {
            switch event {
            case .start("si", _): current = ""
            case .start("t", _): inText = !inPhonetic
            case .start("rPh", _): inPhonetic = true
            case .text(let text): if inText { current += text }
            case .end("si"): strings.append(current)
            case .end("t"): inText = false
            case .end("rPh"): inPhonetic = false
            default: break
            }
        }
        return strings
    }

    /// An entry's bytes, or `nil` when the archive has no such entry.
    static func data(_ archive: Archive, _ path: String) throws(XLSXError) -> Data? {
        guard let entry = archive[path] else { return nil }
        let tooLarge = XLSXError("the workbook's \(path) unzips to more than \(maxPartBytes >> 20) MiB, the limit of one part")
        guard entry.uncompressedSize <= UInt64(maxPartBytes) else { throw tooLarge }
        var data = Data()
        do {
            _ = try archive.extract(entry) { chunk in
                guard data.count + chunk.count <= maxPartBytes else { throw PartTooLarge() }
                data.append(chunk)
            }
        } catch is PartTooLarge {
            throw tooLarge
        } catch {
            throw XLSXError("the workbook is damaged (\(path) cannot be unzipped)")
        }
        return data
    }
}
