import Foundation
import SluiceArchive
import SluiceCore
import SluiceIngest
import SluiceSpreadsheet
import SluiceTestSupport
import Testing
import ZIPFoundation

/// ZIP archives read from their directory, entry by entry: what a real zip tool writes, ZIP64,
/// and every way an archive can lie or attack.
@Suite struct ZipArchiveTests {
    @Test func pathsResolveInsideTheArchiveOnly() {
        #expect(ZipPath.resolve("photos/mug.jpg", in: "catalogue/") == "catalogue/photos/mug.jpg")
        #expect(ZipPath.resolve("./photos//mug.jpg", in: "catalogue/") == "catalogue/photos/mug.jpg")
        #expect(ZipPath.resolve("photos\\mug.jpg") == "photos/mug.jpg", "Windows separators")
        #expect(ZipPath.resolve("../shared/mug.jpg", in: "catalogue/") == "shared/mug.jpg")
        #expect(ZipPath.resolve("/photos/mug.jpg", in: "catalogue/") == "photos/mug.jpg", "a leading slash is the archive's root")
        #expect(ZipPath.resolve("../../etc/passwd", in: "catalogue/") == nil)
        #expect(ZipPath.resolve("../mug.jpg") == nil)
        #expect(ZipPath.resolve("photos/../../mug.jpg") == nil)
        #expect(ZipPath.resolve("./") == nil)
        #expect(ZipPath.folder(of: "catalogue/rows.csv") == "catalogue/")
        #expect(ZipPath.folder(of: "rows.csv") == "")
    }

    /// An archive a real encoder (ZIPFoundation) wrote, deflated and stored entries both.
    @Test func anArchiveAZipToolWroteIsRead() throws {
        let directory = TemporaryDirectory()
        let url = URL(fileURLWithPath: directory.path("upload.zip"))
        let archive = try Archive(url: url, accessMode: .create)
        let csv = Data("id,photo\n1,photos/a.png\n".utf8)
        let png = Data(ZipArchiveTests.png)
        try archive.addEntry(with: "catalogue/rows.csv", type: .file, uncompressedSize: Int64(csv.count), compressionMethod: .deflate) {
            position, count in csv.subdata(in: Int(position)..<Int(position) + count)
        }
        try archive.addEntry(with: "catalogue/photos/a.png", type: .file, uncompressedSize: Int64(png.count), compressionMethod: .none) {
            position, count in png.subdata(in: Int(position)..<Int(position) + count)
        }
        try archive.addEntry(with: "catalogue/photos/", type: .directory, uncompressedSize: Int64(0)) { (_: Int64, _: Int) in Data() }

        let zip = try LocalZip(path: url.path)
        #expect(zip.directory.names.sorted() == ["catalogue/photos/a.png", "catalogue/rows.csv"], "folders are no files")
        let table = try ZipTable(directory: zip.directory)
        #expect(table.table.name == "catalogue/rows.csv")
        #expect(table.format == .csv)
        #expect(try zip.bytes(of: table.table, limit: 1 << 20) == Array(csv))
        let image = try table.image(at: "photos/a.png")
        #expect(try zip.bytes(of: image, limit: 1 << 20) == ZipArchiveTests.png)
        #expect(try zip.bytes(of: image, limit: 1 << 20, prefix: 8).count >= 8)
        #expect(throws: ImagePart.Refusal(description: "'photos/b.png' is not in the upload (looked for catalogue/photos/b.png)")) {
            try table.image(at: "photos/b.png")
        }
        #expect(throws: ImagePart.Refusal(description: "'../../rows.csv' points outside the upload")) {
            try table.image(at: "../../rows.csv")
        }
    }

    /// Over 65,535 entries an archive's counts and offsets are in its ZIP64 record.
    @Test func zip64ArchivesAreRead() throws {
        var builder = ZipBuilder()
        builder.add("rows.csv", "id,photo\n")
        for number in 0..<70_000 { builder.add("p/\(number)", [UInt8(number & 0xFF)]) }
        let directory = TemporaryDirectory()
        let path = directory.write("big.zip", bytes: builder.bytes())
        let zip = try LocalZip(path: path)
        #expect(zip.directory.names.count == 70_001)
        let last = try #require(zip.directory.files["p/69999"])
        #expect(try zip.bytes(of: last, limit: 10) == [UInt8(69_999 & 0xFF)])
    }

    @Test func aTableMustBeAloneAndPresent() throws {
        func table(_ names: [String]) throws -> ZipTable {
            var builder = ZipBuilder()
            for name in names { builder.add(name, "id\n1\n") }
            let directory = TemporaryDirectory()
            return try ZipTable(directory: try LocalZip(path: directory.write("t.zip", bytes: builder.bytes())).directory)
        }
        #expect(try table(["rows.jsonl", "__MACOSX/._rows.jsonl", ".hidden.csv", "notes.txt"]).table.name == "rows.jsonl")
        #expect(throws: ZipError("the zip holds 2 tables (a.csv, b/c.xlsx); it must hold one")) { try table(["a.csv", "b/c.xlsx"]) }
        #expect(throws: ZipError("the zip holds no table: it needs one .csv, .json, .jsonl or .xlsx file whose rows name its other files"))
        {
            try table(["photo.png"])
        }
        #expect(throws: ZipError("the archive holds two entries named a.csv")) { try table(["a.csv", "./a.csv"]) }
    }

    /// Declared sizes are the sender's word: what an entry really unzips to is counted, its CRC
    /// checked, and a bomb's declared ratio refused before a byte is inflated.
    @Test func aLyingOrHostileEntryIsRefused() throws {
        let directory = TemporaryDirectory()
        func read(_ entry: ZipBuilder.Entry, limit: Int = 64 << 20) throws -> [UInt8] {
            var builder = ZipBuilder()
            builder.entries = [entry]
            let zip = try LocalZip(path: directory.write("e.zip", bytes: builder.bytes()))
            return try zip.bytes(of: try #require(zip.directory.files[entry.name]), limit: limit)
        }
        let zeros = [UInt8](repeating: 0, count: 4 << 20)
        var bomb = ZipBuilder.Entry(name: "bomb.csv", data: zeros, deflate: true)
        #expect(throws: ZipError("bomb.csv would unzip to 1028× its compressed size, over the 200× an archive may")) { try read(bomb) }
        bomb.data = Array(zeros.prefix(100_000))
        #expect(throws: ZipError("bomb.csv unzips to more than 1000 bytes, the most read of it")) { try read(bomb, limit: 1_000) }

        var lying = ZipBuilder.Entry(name: "lie.csv", data: Array(repeating: 65, count: 5_000), deflate: true)
        lying.declaredSize = 1_000
        #expect(throws: ZipError("the archive is damaged (lie.csv unzips to more than its declared size)")) { try read(lying) }
        lying.declaredSize = 9_000
        #expect(throws: ZipError("the archive is damaged or cut short (lie.csv ends early)")) { try read(lying) }

        var corrupt = ZipBuilder.Entry(name: "crc.csv", data: Array("id\n1\n".utf8))
        corrupt.crc = 12345
        #expect(throws: ZipError("the archive is damaged (crc.csv fails its CRC check)")) { try read(corrupt) }

        var encrypted = ZipBuilder.Entry(name: "secret.csv", data: Array("id\n".utf8))
        encrypted.flags = 1
        #expect(throws: ZipError("secret.csv is encrypted")) { try read(encrypted) }
        var bzip = ZipBuilder.Entry(name: "b.csv", data: Array("id\n".utf8))
        bzip.method = 12
        #expect(throws: ZipError("b.csv is compressed with method 12; only stored and deflated entries are read")) { try read(bzip) }
    }

    @Test func aDamagedOrOversizedDirectoryIsRefused() throws {
        let directory = TemporaryDirectory()
        #expect(throws: ZipError("not a ZIP archive (it has no end of central directory record)")) {
            try LocalZip(path: directory.write("no.zip", "id,photo\n1,a.png\n"))
        }
        var builder = ZipBuilder()
        builder.add("rows.csv", "id\n")
        // The ZIP64 record's entry counts say 300,000.
        builder.zip64 = true
        var bytes = builder.bytes()
        let record = bytes.count - 22 - 20 - 56
        for field in [24, 32] {
            for (k, byte) in [UInt8](withUnsafeBytes(of: UInt64(300_000).littleEndian, Array.init)).enumerated() {
                bytes[record + field + k] = byte
            }
        }
        #expect(throws: ZipError("the archive lists 300000 entries; at most 200000 are read")) {
            try LocalZip(path: directory.write("many.zip", bytes: bytes))
        }
        // Cut short: the directory lies past the end.
        builder.zip64 = false
        let whole = builder.bytes()
        let cut = Array(whole.prefix(10)) + Array(whole.suffix(22))
        #expect(throws: ZipError("the archive is damaged or cut short (its directory lies past its end)")) {
            try LocalZip(path: directory.write("cut.zip", bytes: cut))
        }
    }

    /// The table may be any of the formats: a workbook inside the zip is unzipped to a
    /// temporary file and read as a workbook is, its rows numbered by the sheet; a JSON Lines
    /// table's records come with their lines.
    @Test func aWorkbookOrJSONLinesTableInsideAZipIsRead() throws {
        let directory = TemporaryDirectory()
        let writer = try XLSXWriter()
        try writer.addRow([.text("name"), .text("photo")])
        try writer.addRow([.text("mug"), .text("photos/mug.png")])
        let book = URL(fileURLWithPath: directory.path("rows.xlsx"))
        try writer.finish(to: book)
        var zip = ZipBuilder()
        zip.add("catalogue/rows.xlsx", Array(try Data(contentsOf: book)), deflate: true)
        let parser = try ZipTableParser(path: directory.write("book.zip", bytes: zip.bytes()), options: InputOptions())
        #expect(parser.header == ["name", "photo"])
        #expect(try parser.next() == .record(IngestRecord(fields: JSONObject([("name", "mug"), ("photo", "photos/mug.png")]), line: 2)))
        #expect(try parser.next() == nil)

        var lines = ZipBuilder()
        lines.add("rows.jsonl", "{\"name\": \"cup\"}\n{\"name\": \"jar\"}\n")
        let jsonl = try ZipTableParser(path: directory.write("lines.zip", bytes: lines.bytes()), options: InputOptions())
        #expect(try jsonl.next() == .record(IngestRecord(fields: JSONObject([("name", "cup")]), line: 1)))
        #expect(try jsonl.next() == .record(IngestRecord(fields: JSONObject([("name", "jar")]), line: 2)))
    }

    /// A 1 × 1 PNG.
    static let png: [UInt8] = Array(
        Data(base64Encoded: "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")!)
}
