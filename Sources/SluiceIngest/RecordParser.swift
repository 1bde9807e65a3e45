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
}

/// A streaming reader of one file's records. `next()` returns `nil` at the end and throws
/// when the file cannot be read any further (an unclosed quote, broken JSON structure).
public protocol RecordParser: AnyObject {
    func next() throws(InputProblem) -> IngestStep?
}

/// Opens the parser for a format.
public enum RecordParsers {
    public static func open(path: String, format: InputFormat, options: InputOptions) throws(InputProblem) -> any RecordParser {
        let reader = try ByteReader(path: path)
        switch format {
        case .csv: return try CSVRecordParser(reader: reader, delimiter: options.delimiter)
        case .json: return JSONArrayRecordParser(reader: reader, recordsMember: options.records)
        case .jsonl, .openAIBatch: return JSONLinesRecordParser(reader: reader)
        case .text: return TextRecordParser(reader: reader, mode: options.textMode)
        }
    }
}
