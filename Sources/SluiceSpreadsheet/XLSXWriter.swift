public import Foundation
import ZIPFoundation

/// Writes a one-sheet `.xlsx` workbook row by row.
///
/// Streamed: rows go to the sheet's XML in a temporary file as they come (text as inline
/// strings, so no table of every string is kept), and ``finish(to:)`` zips the parts, reading
/// that file in chunks. A 100,000-row result is never held in memory.
public final class XLSXWriter {
    let folder: URL
    let sheetFile: URL
    let handle: FileHandle
    let sheetName: String
    var buffer = ""
    var rowNumber = 0
    var finished = false

    public init(sheetName: String = "Results") throws(XLSXError) {
        self.sheetName = Self.validSheetName(sheetName)
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-xlsx-\(UUID().uuidString)")
        sheetFile = folder.appendingPathComponent("sheet1.xml")
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: sheetFile.path, contents: nil)
            handle = try FileHandle(forWritingTo: sheetFile)
        } catch {
            throw XLSXError("cannot write a workbook: \(error.localizedDescription)")
        }
        buffer =
            #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"# + "\n"
            + #"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#
    }

    deinit {
        try? handle.close()
        try? FileManager.default.removeItem(at: folder)
    }

    public func addRow(_ cells: [XLSXCell]) throws(XLSXError) {
        rowNumber += 1
        buffer += "<row r=\"\(rowNumber)\">"
        for (index, cell) in cells.enumerated() {
            let reference = XLSXColumn.name(index + 1) + String(rowNumber)
            switch cell {
            case .empty: continue
            case .text(let text):
                buffer += "<c r=\"\(reference)\" t=\"inlineStr\"><is><t xml:space=\"preserve\">\(Self.escaped(text))</t></is></c>"
            case .number(let number) where number.isFinite:
                buffer += "<c r=\"\(reference)\"><v>\(CellFormat.generalText(number))</v></c>"
            case .number(let number):
                buffer += "<c r=\"\(reference)\" t=\"inlineStr\"><is><t>\(number)</t></is></c>"
            case .bool(let flag):
                buffer += "<c r=\"\(reference)\" t=\"b\"><v>\(flag ? 1 : 0)</v></c>"
            }
        }
        buffer += "</row>"
        if buffer.utf8.count >= 1 << 16 { try flush() }
    }

    func flush() throws(XLSXError) {
        do {
            try handle.write(contentsOf: Data(buffer.utf8))
        } catch {
            throw XLSXError("cannot write a workbook: \(error.localizedDescription)")
        }
        buffer = ""
    }

    /// Writes the workbook to `url` (replacing nothing: the file must not exist).
    public func finish(to url: URL) throws(XLSXError) {
        precondition(!finished, "a workbook is finished once")
        finished = true
        buffer += "</sheetData></worksheet>"
        try flush()
        do {
            try handle.close()
            let archive = try Archive(url: url, accessMode: .create)
            for (path, text) in Self.parts(sheetName: sheetName) {
                let data = Data(text.utf8)
                try archive.addEntry(
                    with: path, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate,
                    provider: { position, size in data.subdata(in: Int(position)..<Int(position) + size) })
            }
            try archive.addEntry(with: "xl/worksheets/sheet1.xml", fileURL: sheetFile, compressionMethod: .deflate)
        } catch {
            try? FileManager.default.removeItem(at: url)
            throw XLSXError("cannot write a workbook: \(error.localizedDescription)")
        }
    }

    /// The fixed parts of a one-sheet workbook.
    static func parts(sheetName: String) -> [(String, String)] {
        let header = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"# + "\n"
        return [
            (
                "[Content_Types].xml",
                header + #"<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">"#
                    + #"<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>"#
                    + #"<Default Extension="xml" ContentType="application/xml"/>"#
                    + #"<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>"#
                    + #"<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#
                    + #"<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>"#
                    + "</Types>"
            ),
            (
                "_rels/.rels",
                header + #"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#
                    + #"<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>"#
                    + "</Relationships>"
            ),
            (
                "xl/workbook.xml",
                header
                    + #"<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">"#
                    + "<sheets><sheet name=\"\(escaped(sheetName))\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"
            ),
            (
                "xl/_rels/workbook.xml.rels",
                header + #"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#
                    + #"<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>"#
                    + #"<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>"#
                    + "</Relationships>"
            ),
            (
                "xl/styles.xml",
                header + #"<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#
                    + #"<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>"#
                    + #"<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>"#
                    + #"<borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs>"#
                    + #"<cellXfs count="1"><xf xfId="0"/></cellXfs>"#
                    + #"<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"#
            ),
        ]
    }

    /// Text safe inside XML: markup escaped, and characters XML 1.0 cannot hold dropped.
    static func escaped(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "\t", "\n", "\r": result.unicodeScalars.append(scalar)
            default: if scalar.value >= 0x20, scalar.value != 0xFFFE, scalar.value != 0xFFFF { result.unicodeScalars.append(scalar) }
            }
        }
        return result
    }

    /// Sheet names are at most 31 characters, without `[]:*?/\`.
    static func validSheetName(_ name: String) -> String {
        let cleaned = String(name.filter { !"[]:*?/\\".contains($0) }.prefix(31))
        return cleaned.isEmpty ? "Results" : cleaned
    }
}
