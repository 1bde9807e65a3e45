public import SluiceCore

/// Plain UTF-8 text: the whole file as one item (`{"text"}`), or one item per
/// blank-line-separated record. A file as one item is necessarily held whole, so its size is
/// capped.
public final class TextRecordParser: RecordParser {
    let lines: LineReader
    let mode: InputOptions.TextMode
    var finished = false
    var sawText = false

    public init(reader: ByteReader, mode: InputOptions.TextMode) {
        lines = LineReader(reader: reader)
        self.mode = mode
    }

    public func next() throws(InputProblem) -> IngestStep? {
        guard !finished else { return nil }
        var text: [UInt8] = []
        var firstLine = 0
        var badLine: Int?
        while try lines.advance() {
            if lines.isBlank {
                if mode == .paragraphs, firstLine > 0 { break }
                if firstLine == 0 { continue }
            }
            if firstLine == 0 { firstLine = lines.lineNumber }
            if badLine == nil, String(validating: lines.line, as: UTF8.self) == nil { badLine = lines.lineNumber }
            if !text.isEmpty { text.append(0x0A) }
            text.append(contentsOf: lines.line)
            if text.count > RecordLimit.bytes {
                throw InputProblem(line: firstLine, message: "a text record larger than \(RecordLimit.bytes / (1024 * 1024)) MiB")
            }
        }
        if firstLine == 0 {
            finished = true
            if !sawText { throw InputProblem(line: 1, message: "the file is empty") }
            return nil
        }
        sawText = true
        if mode == .file { finished = true }
        if let badLine { return .problem(InputProblem(line: badLine, message: "invalid UTF-8")) }
        while text.last == 0x0A || text.last == 0x20 { text.removeLast() }
        let fields = JSONObject([(key: "text", value: .string(String(decoding: text, as: UTF8.self)))])
        return .record(IngestRecord(fields: fields, line: firstLine))
    }
}
