import SluiceCore

/// JSONL: one JSON object per line; blank lines are ignored. A bad line is reported and
/// skipped, so one upload lists every broken line at once.
public final class JSONLinesRecordParser: RecordParser {
    let lines: LineReader
    var sawRecord = false

    public init(reader: ByteReader) {
        lines = LineReader(reader: reader)
    }

    public func next() throws(InputProblem) -> IngestStep? {
        while try lines.advance() {
            if lines.isBlank { continue }
            sawRecord = true
            let number = lines.lineNumber
            let value: JSONValue
            do {
                value = try JSONParser.parse(lines.line, origin: JSONParser.Origin(line: number))
            } catch {
                return .problem(InputProblem(line: error.line, column: error.column, message: error.message))
            }
            guard case .object(let fields) = value else {
                return .problem(InputProblem(line: number, message: "expected a JSON object, found \(value.typeName)"))
            }
            return .record(IngestRecord(fields: fields, line: number))
        }
        if !sawRecord { throw InputProblem(line: 1, message: "the file is empty") }
        return nil
    }
}
