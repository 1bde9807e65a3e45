public import SluiceCore

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
/// The most one record may hold, in every format: a CSV record, a JSON array's element, a JSON
/// Lines line, a text or PDF document. A record is held whole while it becomes an item, so an
/// endless one (a 40 MB file of one record once took 1.1 GB) is refused with its line instead.
public enum RecordLimit {
    public static let bytes = 16 << 20
}

public protocol RecordParser: AnyObject {
    func next() throws(InputProblem) -> IngestStep?
    /// The column names, for formats with a header row; checked against the template once,
    /// before any record.
    var header: [String]? { get }
}

extension RecordParser {
    public var header: [String]? { nil }
}
