import Foundation
public import SluiceArchive
public import SluiceCore

/// A zip upload's records: its one table (``ZipTable``), unzipped to a temporary file as it is
/// read (counted, never past ``ZipTable/maxTableBytes``) and parsed as that format is; the
/// archive's directory stays open for the rows' files (``ZipImages``).
public final class ZipTableParser: RecordParser {
    let inner: any RecordParser
    public let images: ZipImages

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
        images = ZipImages(zip: zip, table: table)
    }

    public func next() throws(InputProblem) -> IngestStep? { try inner.next() }
}

/// The images a zip upload's rows name by path, checked as each row is read: inside the archive,
/// present, within the inline limit and an image by its first bytes. The whole file is read
/// when its call is made.
public struct ZipImages: Sendable {
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
