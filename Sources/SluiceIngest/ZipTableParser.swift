import Foundation
public import SluiceArchive
public import SluiceCore

/// A zip upload's records: its one table (``ZipTable``), unzipped to a temporary file as it is
/// read (counted, never past ``ZipTable/maxTableBytes``) and parsed as that format is; the
/// archive's directory stays open for the rows' files (``ZipFiles``).
public final class ZipTableParser: RecordParser {
    let inner: any RecordParser
    public let files: ZipFiles

    public var header: [String]? { inner.header }

    public init(path: String, options: InputOptions) throws(InputProblem) {
        let zip: LocalZip
        let table: ZipTable
        do {
            zip = try LocalZip(path: path)
            table = try ZipTable(directory: zip.directory)
        } catch {
            throw InputProblem(message: error.description)
        }
        let format = options.format.flatMap { [.csv, .json, .jsonl, .xlsx].contains($0) ? $0 : nil } ?? table.format
        let unzipped = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-zip-\(UUID().uuidString)").path
        // Open, the table is read through its descriptor: its name can go at once.
        defer { try? FileManager.default.removeItem(atPath: unzipped) }
        do {
            try zip.extract(table.table, to: unzipped, limit: ZipTable.maxTableBytes)
        } catch {
            throw InputProblem(message: "\(table.table.name): \((error as? ZipError)?.description ?? "cannot be unzipped (\(error))")")
        }
        inner = try RecordParsers.open(path: unzipped, name: table.table.name, format: format, options: options)
        files = ZipFiles(zip: zip, table: table)
    }

    public func next() throws(InputProblem) -> IngestStep? { try inner.next() }
}

/// The files a zip upload's rows name by path. Images are checked as each row is read — inside
/// the archive, present, within the inline limit and an image by its first bytes — and read
/// whole when their call is made; documents are read as the row is, into its text.
public struct ZipFiles: Sendable {
    let zip: LocalZip
    let table: ZipTable

    /// The images `input`'s `columns` name by path, read whole (for a preview or an estimate;
    /// a job's are read by its worker, at the call). One that cannot be read is left out: its
    /// row's prompt then says so.
    public func sources(for input: JSONObject, columns: [String]) -> [String: ImagePart.Source] {
        var sources: [String: ImagePart.Source] = [:]
        for column in columns {
            guard let cell = input[column]?.plainText, case .path(let path) = ImagePart.cell(cell), sources[path] == nil,
                let entry = try? table.image(at: path), let bytes = try? zip.bytes(of: entry, limit: ImagePart.largestInline),
                let probe = try? ZipTable.probe(bytes, path: path)
            else { continue }
            sources[path] = .inline(probe, bytes)
        }
        return sources
    }

    /// The most a row's document may be, unzipped.
    public static let maxDocumentBytes = 64 << 20

    /// The text of the document at `path`: a PDF's (through `pdftotext`, sandboxed) or a UTF-8
    /// text file's; why not, in words for the row's error, when it has none.
    public func documentText(path: String) -> Result<String, DocumentRefusal> {
        let bytes: [UInt8]
        do {
            let entry = try table.entry(at: path, limit: Self.maxDocumentBytes, what: "a document may be")
            bytes = try zip.bytes(of: entry, limit: Self.maxDocumentBytes)
        } catch let refusal as ImagePart.Refusal {
            return .failure(DocumentRefusal(message: refusal.description))
        } catch {
            return .failure(
                DocumentRefusal(message: "'\(path)' cannot be read from the upload: \((error as? ZipError)?.description ?? "\(error)")"))
        }
        if bytes.starts(with: Array("%PDF-".utf8)) {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-document-\(UUID().uuidString).pdf").path
            defer { try? FileManager.default.removeItem(atPath: file) }
            guard FileManager.default.createFile(atPath: file, contents: Data(bytes)) else {
                return .failure(DocumentRefusal(message: "'\(path)' cannot be unpacked"))
            }
            do { return .success(try PDFTextExtractor().text(ofFileAt: file)) } catch {
                return .failure(DocumentRefusal(message: "'\(path)' \(error.message)"))
            }
        }
        guard !bytes.contains(0), let text = String(validating: bytes, as: UTF8.self) else {
            return .failure(DocumentRefusal(message: "'\(path)' is neither a PDF nor UTF-8 text (read by its bytes)"))
        }
        guard bytes.count <= RecordLimit.bytes else {
            return .failure(
                DocumentRefusal(message: "'\(path)' has more than \(RecordLimit.bytes >> 20) MiB of text, the most one document may have"))
        }
        guard text.contains(where: { !$0.isWhitespace }) else { return .failure(DocumentRefusal(message: "'\(path)' is empty")) }
        return .success(text)
    }

    /// Why a row's document gives no text.
    public struct DocumentRefusal: Error, Equatable {
        public var message: String
    }

    /// Why the image at `path` cannot be sent; nil when it can.
    public func refusal(path: String) -> String? {
        do {
            let entry = try table.image(at: path)
            let head = try zip.bytes(of: entry, limit: ImagePart.largestInline, prefix: ImageProbe.headerLimit)
            _ = try ZipTable.probe(head, path: path)
            return nil
        } catch let refusal as ImagePart.Refusal {
            return refusal.description
        } catch {
            return "'\(path)' cannot be read from the upload: \((error as? ZipError)?.description ?? "\(error)")"
        }
    }
}
