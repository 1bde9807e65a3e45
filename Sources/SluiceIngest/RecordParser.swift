import SluiceCore

/// One record read from an input file, with the line it starts on.
public struct IngestRecord: Sendable, Equatable {
    public var fields: JSONObject
    public var line: Int

    public init(fields: JSONObject, line: Int) {
        self.fields = fields
        self.line = line
    }
}

/// What a parser found next: a record, or a bad record it skipped (parsing goes on so that one
/// upload reports many problems at once).
public enum IngestStep: Sendable, Equatable {
    case record(IngestRecord)
    case problem(InputProblem)
    /// One document of several gave no text (the message names it and says why): it fails
    /// alone, as an item, and the others go on.
    case failedDocument(String)
}

/// A streaming reader of one file's records. `next()` returns `nil` at the end and throws
/// when the file cannot be read any further (an unclosed quote, broken JSON structure).
public protocol RecordParser: AnyObject {
    func next() throws(InputProblem) -> IngestStep?
    /// The column names, for formats with a header row; checked against the template once,
    /// before any record.
    var header: [String]? { get }
}

extension RecordParser {
    public var header: [String]? { nil }
}

/// Opens the parser for a format.
public enum RecordParsers {
    /// Whether files of `format` are read as whole documents (text extracted, then chunked),
    /// where a file without text fails alone instead of failing the job.
    public static func readsDocuments(format: InputFormat, options: InputOptions) -> Bool {
        format == .pdf || (format == .text && options.textMode == .chunks)
    }

    /// `name` is the file's name as its owner knows it, which documents carry in their records.
    public static func open(path: String, name: String, format: InputFormat, options: InputOptions) throws(InputProblem)
        -> any RecordParser
    {
        if readsDocuments(format: format, options: options) {
            return DocumentRecordParser(name: name, options: options) { () throws(PDFTextExtractor.Failure) in
                format == .pdf ? try PDFTextExtractor().text(ofFileAt: path) : try DocumentRecordParser.readText(path: path)
            }
        }
        if format == .xlsx { return try XLSXRecordParser(path: path, sheet: options.sheet) }
        let reader = try ByteReader(path: path)
        switch format {
        case .csv: return try CSVRecordParser(reader: reader, delimiter: options.delimiter)
        case .json: return JSONArrayRecordParser(reader: reader, recordsMember: options.records)
        case .jsonl, .openAIBatch: return JSONLinesRecordParser(reader: reader)
        case .text, .pdf, .xlsx: return TextRecordParser(reader: reader, mode: options.textMode)
        }
    }
}
