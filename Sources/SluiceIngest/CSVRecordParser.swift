import SluiceCore

/// RFC 4180 CSV: a header row naming the fields, quoted fields with doubled quotes and line
/// breaks inside them, CRLF or LF line ends, an optional UTF-8 BOM and any one-byte delimiter.
///
/// A row with the wrong number of fields, stray quotes or invalid UTF-8 is reported and
/// skipped; a quote still open at the end of the file stops the parse, because everything after
/// it would be misread.
public final class CSVRecordParser: RecordParser {
    let reader: ByteReader
    let delimiter: UInt8
    /// The header row's names.
    private(set) var columns: [String] = []
    public var header: [String]? { columns }

    /// Physical line of the next unread byte, and the file offset where that line starts.
    var line = 1
    var lineStart = 0
    /// Set after a CR ends a row, so that the LF of a CRLF is not read as an empty row.
    var skipLineFeed = false
    var fields: [String] = []
    var scratch: [UInt8] = []

    /// How many fields a record may have. Past it, or past ``RecordLimit/bytes``, the parse
    /// stops with the record's line: what follows cannot be trusted.
    public static let maxFields = 10_000

    static let quote = UInt8(ascii: "\"")
    static let lineFeed: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D

    public init(reader: ByteReader, delimiter: UInt8 = UInt8(ascii: ",")) throws(InputProblem) {
        self.reader = reader
        self.delimiter = delimiter
        try reader.skipByteOrderMark()
        guard let row = try readRow() else { throw InputProblem(line: 1, message: "the file is empty") }
        if let problem = row.problem { throw problem }
        if row.fields.allSatisfy(\.isEmpty) { throw InputProblem(line: row.line, message: "the header row is empty") }
        for (number, name) in row.fields.enumerated() {
            if name.isEmpty { throw InputProblem(line: row.line, message: "header column \(number + 1) has no name") }
            if row.fields[..<number].contains(name) {
                throw InputProblem(line: row.line, message: "header column \(number + 1) repeats the name '\(name)'")
            }
        }
        columns = row.fields
    }

    public func next() throws(InputProblem) -> IngestStep? {
        while let row = try readRow() {
            if let problem = row.problem { return .problem(problem) }
            if row.fields.count == 1, row.fields[0].isEmpty, !row.quoted { continue }
            guard row.fields.count == columns.count else {
                return .problem(
                    InputProblem(line: row.line, message: "expected \(columns.count) fields as in the header, found \(row.fields.count)"))
            }
            var members: [(key: String, value: JSONValue)] = []
            members.reserveCapacity(columns.count)
            for (name, value) in zip(columns, row.fields) { members.append((name, .string(value))) }
            return .record(IngestRecord(fields: JSONObject(members), line: row.line))
        }
        return nil
    }

    struct Row {
        var fields: [String]
        var line: Int
        var quoted: Bool
        var problem: InputProblem?
    }

    enum State {
        case fieldStart
        case unquoted
        case quoted
        case quoteInQuoted
    }

    var column: Int { reader.offset - lineStart + 1 }

    /// Reads one physical record (which may span lines inside quotes).
    func readRow() throws(InputProblem) -> Row? {
        fields.removeAll(keepingCapacity: true)
        scratch.removeAll(keepingCapacity: true)
        var state = State.fieldStart
        let rowLine = line
        var problem: InputProblem?
        var quoted = false
        var sawByte = false
        var fieldColumn = 1
        var quoteLine = 0
        var quoteColumn = 0
        var rowBytes = 0
        func tooLarge() -> InputProblem {
            InputProblem(
                line: rowLine,
                message: "the record is longer than \(RecordLimit.bytes >> 20) MiB, the limit of one record (is a quote left open?)")
        }

        func finishField() {
            if let text = String(validating: scratch, as: UTF8.self) {
                fields.append(text)
            } else {
                fields.append("")
                if problem == nil {
                    problem = InputProblem(line: rowLine, column: fieldColumn, message: "invalid UTF-8 in field \(fields.count)")
                }
            }
            rowBytes += scratch.count
            scratch.removeAll(keepingCapacity: true)
        }

        while true {
            guard try reader.hasBytes() else {
                if state == .quoted {
                    throw InputProblem(line: quoteLine, column: quoteColumn, message: "unclosed quote: the quoted field never ends")
                }
                guard sawByte else { return nil }
                finishField()
                return Row(fields: fields, line: rowLine, quoted: quoted, problem: problem)
            }
            let byte = reader.buffer[reader.position]
            if skipLineFeed {
                skipLineFeed = false
                if byte == Self.lineFeed {
                    reader.position += 1
                    lineStart = reader.offset
                    continue
                }
            }
            sawByte = true
            if rowBytes + scratch.count > RecordLimit.bytes { throw tooLarge() }
            if fields.count > Self.maxFields {
                throw InputProblem(line: rowLine, message: "the record has more than \(Self.maxFields) fields, the limit of one record")
            }
            switch state {
            case .fieldStart, .unquoted:
                if byte == delimiter {
                    finishField()
                    reader.position += 1
                    fieldColumn = column
                    state = .fieldStart
                } else if byte == Self.lineFeed || byte == Self.carriageReturn {
                    finishField()
                    reader.position += 1
                    line += 1
                    lineStart = reader.offset
                    skipLineFeed = byte == Self.carriageReturn
                    return Row(fields: fields, line: rowLine, quoted: quoted, problem: problem)
                } else if byte == Self.quote && state == .fieldStart {
                    quoted = true
                    quoteLine = line
                    quoteColumn = column
                    reader.position += 1
                    state = .quoted
                } else {
                    if byte == Self.quote, problem == nil {
                        problem = InputProblem(
                            line: line, column: column,
                            message: "a quote inside an unquoted field (quote the whole field and double the quote)")
                    }
                    scratch.append(byte)
                    reader.position += 1
                    state = .unquoted
                }
            case .quoted:
                // Copy the run up to the next quote in one go: quoted fields are often long text.
                let start = reader.position
                var end = start
                let buffer = reader.buffer
                while end < reader.count, buffer[end] != Self.quote {
                    if buffer[end] == Self.lineFeed {
                        line += 1
                        lineStart = reader.consumedBefore + end + 1
                    }
                    end += 1
                }
                scratch.append(contentsOf: buffer[start..<end])
                reader.position = end
                if end < reader.count {
                    reader.position += 1
                    state = .quoteInQuoted
                }
            case .quoteInQuoted:
                if byte == Self.quote {
                    scratch.append(byte)
                    reader.position += 1
                    state = .quoted
                } else if byte == delimiter || byte == Self.lineFeed || byte == Self.carriageReturn {
                    state = .unquoted
                } else {
                    if problem == nil {
                        problem = InputProblem(line: line, column: column, message: "unexpected character after a closing quote")
                    }
                    state = .unquoted
                }
            }
        }
    }
}
