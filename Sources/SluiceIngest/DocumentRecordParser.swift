import Foundation
public import SluiceCore

/// Documents (PDF, or text in `chunks` mode) as records: the whole text, its paragraphs, or
/// chunks of it (`{"document", "part", "parts", "text"}`), each carrying the file's name.
///
/// A document that gives no text is not a malformed upload but one bad file among good ones:
/// it becomes one ``IngestStep/failedDocument(_:)`` naming the file and why, and the job goes
/// on with the others.
public final class DocumentRecordParser: RecordParser {
    var pending: [IngestStep]

    /// `read` produces the document's text, or throws why it has none.
    public init(name: String, options: InputOptions, read: () throws(PDFTextExtractor.Failure) -> String) {
        let text: String
        do {
            text = try read()
        } catch {
            pending = [.failedDocument("\(name) \(error.message)")]
            return
        }
        var records: [JSONObject] = []
        switch options.textMode {
        case .file:
            records = [JSONObject([("document", .string(name)), ("text", .string(Self.trimmed(text)))])]
        case .paragraphs:
            records = text.components(separatedBy: "\n\n").map(Self.trimmed).filter { !$0.isEmpty }.map {
                JSONObject([("document", .string(name)), ("text", .string($0))])
            }
        case .chunks:
            let chunks = DocumentChunker.chunks(of: text, maxChars: options.chunkChars)
            records = chunks.enumerated().map { number, chunk in
                JSONObject([
                    ("document", .string(name)), ("part", .int(number + 1)), ("parts", .int(chunks.count)), ("text", .string(chunk)),
                ])
            }
        }
        pending = records.isEmpty ? [.failedDocument("\(name) has no text")] : records.map { .record(IngestRecord(fields: $0, line: 1)) }
        pending.reverse()
    }

    public func next() throws(InputProblem) -> IngestStep? {
        pending.popLast()
    }

    static func trimmed(_ text: String) -> String {
        String(text.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }

    /// A text file's contents for a document parser: UTF-8, within the size a document may have.
    public static func readText(path: String) throws(PDFTextExtractor.Failure) -> String {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
        guard size <= RecordLimit.bytes else {
            throw PDFTextExtractor.Failure(message: "is larger than \(RecordLimit.bytes >> 20) MiB")
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw PDFTextExtractor.Failure(message: "cannot be read") }
        guard let text = String(validating: data, as: UTF8.self) else { throw PDFTextExtractor.Failure(message: "is not UTF-8 text") }
        guard text.contains(where: { !$0.isWhitespace }) else { throw PDFTextExtractor.Failure(message: "is empty") }
        return text
    }
}
