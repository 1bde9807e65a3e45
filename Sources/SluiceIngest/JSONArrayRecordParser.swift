import SluiceCore

/// A JSON file holding an array of record objects, or an object one of whose members holds
/// that array (`{"conversations": [...]}`), read one record at a time.
///
/// Only one record is ever in memory: the scanner finds where the next element ends, hands
/// its bytes to ``JSONParser`` (positions stay file-wide), and moves on. A record that is not
/// an object is reported and skipped; broken structure stops the parse.
public final class JSONArrayRecordParser: RecordParser {
    let scanner: JSONScanner
    let recordsMember: String?
    var phase = Phase.start
    var recordNumber = 0
    /// The array member being streamed, when the file is an object.
    var streamedMember: String?

    enum Phase {
        case start
        case elements(first: Bool, inObject: Bool)
        case restOfObject
        case done
    }

    public init(reader: ByteReader, recordsMember: String?) {
        scanner = JSONScanner(reader: reader)
        self.recordsMember = recordsMember
    }

    public func next() throws(InputProblem) -> IngestStep? {
        while true {
            switch phase {
            case .start:
                try scanner.reader.skipByteOrderMark()
                try scanner.skipWhitespace()
                switch try scanner.peek() {
                case nil: throw InputProblem(line: 1, message: "the file is empty")
                case UInt8(ascii: "[")?:
                    try scanner.advance()
                    phase = .elements(first: true, inObject: false)
                case UInt8(ascii: "{")?:
                    try scanner.advance()
                    try findRecordsArray(firstMember: true)
                default:
                    throw scanner.problem("expected a JSON array of records or an object holding one")
                }
            case .elements(let first, let inObject):
                try scanner.skipWhitespace()
                guard let byte = try scanner.peek() else { throw scanner.problem("unexpected end of file inside the array of records") }
                if byte == UInt8(ascii: "]") {
                    try scanner.advance()
                    phase = inObject ? .restOfObject : .done
                    continue
                }
                if !first {
                    guard byte == UInt8(ascii: ",") else { throw scanner.problem("expected ',' or ']' after a record") }
                    try scanner.advance()
                    try scanner.skipWhitespace()
                }
                phase = .elements(first: false, inObject: inObject)
                recordNumber += 1
                let (value, line) = try scanner.parseValue(limit: RecordLimit.bytes)
                guard case .object(let fields) = value else {
                    let article = "aeiou".contains(value.typeName.first!) ? "an" : "a"
                    return .problem(
                        InputProblem(line: line, message: "record \(recordNumber) is \(article) \(value.typeName), not an object"))
                }
                return .record(IngestRecord(fields: fields, line: line))
            case .restOfObject:
                try findRecordsArray(firstMember: false)
            case .done:
                try scanner.skipWhitespace()
                if try scanner.peek() != nil { throw scanner.problem("unexpected text after the end of the JSON value") }
                return nil
            }
        }
    }

    /// Walks an object's members until the records array starts, checking (and skipping)
    /// everything else; at the closing brace, checks that the array was found exactly once.
    func findRecordsArray(firstMember: Bool) throws(InputProblem) {
        var first = firstMember
        while true {
            try scanner.skipWhitespace()
            guard let byte = try scanner.peek() else { throw scanner.problem("unexpected end of file inside the top-level object") }
            if byte == UInt8(ascii: "}") {
                try scanner.advance()
                guard streamedMember != nil else {
                    let wanted =
                        recordsMember.map { "no member '\($0)' holding an array of records" } ?? "no array member holding the records"
                    throw scanner.problem("the top-level object has \(wanted)")
                }
                phase = .done
                return
            }
            if !first {
                guard byte == UInt8(ascii: ",") else { throw scanner.problem("expected ',' or '}' in the top-level object") }
                try scanner.advance()
                try scanner.skipWhitespace()
            }
            first = false
            let (keyValue, _) = try scanner.parseValue(limit: 1 << 20)
            guard case .string(let key) = keyValue else { throw scanner.problem("expected a member name in the top-level object") }
            try scanner.skipWhitespace()
            guard try scanner.peek() == UInt8(ascii: ":") else { throw scanner.problem("expected ':' after a member name") }
            try scanner.advance()
            try scanner.skipWhitespace()
            let isArray = try scanner.peek() == UInt8(ascii: "[")
            let wanted = recordsMember.map { $0 == key } ?? isArray
            if wanted {
                guard isArray else { throw scanner.problem("member '\(key)' must be an array of records") }
                if let streamedMember {
                    throw scanner.problem(
                        "the top-level object has more than one array ('\(streamedMember)' and '\(key)'); set input.records to choose")
                }
                streamedMember = key
                try scanner.advance()
                phase = .elements(first: true, inObject: true)
                return
            }
            _ = try scanner.parseValue(limit: RecordLimit.bytes)
        }
    }
}

/// Reads JSON values one at a time out of a ``ByteReader``, tracking lines and columns.
final class JSONScanner {
    let reader: ByteReader
    var line = 1
    var lineStart = 0
    var captured: [UInt8] = []

    init(reader: ByteReader) {
        self.reader = reader
    }

    var column: Int { reader.offset - lineStart + 1 }

    func problem(_ message: String) -> InputProblem {
        InputProblem(line: line, column: column, message: message)
    }

    func peek() throws(InputProblem) -> UInt8? { try reader.peek() }

    func advance() throws(InputProblem) {
        guard let byte = try reader.peek() else { return }
        reader.position += 1
        if byte == 0x0A {
            line += 1
            lineStart = reader.offset
        }
    }

    func skipWhitespace() throws(InputProblem) {
        while let byte = try reader.peek(), byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
            try advance()
        }
    }

    /// Bytes that end a bare scalar (`true`, `12`) at the top of the value being captured.
    static func endsScalar(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") || byte == 0x20 || byte == 0x0A
            || byte == 0x0D || byte == 0x09 || byte == UInt8(ascii: ":")
    }

    /// Captures the bytes of the next value (finding its end by structure alone), then parses
    /// them strictly; returns the value and the line it starts on.
    func parseValue(limit: Int) throws(InputProblem) -> (JSONValue, Int) {
        let startLine = line
        let startColumn = column
        captured.removeAll(keepingCapacity: true)
        var depth = 0
        var inString = false
        var escaped = false
        scan: while true {
            guard try reader.hasBytes() else { break }
            let buffer = reader.buffer
            var index = reader.position
            let end = reader.count
            var finished = false
            while index < end {
                let byte = buffer[index]
                if !inString, depth == 0, Self.endsScalar(byte) {
                    finished = true
                    break
                }
                index += 1
                if byte == 0x0A {
                    line += 1
                    lineStart = reader.consumedBefore + index
                }
                if inString {
                    if escaped {
                        escaped = false
                    } else if byte == UInt8(ascii: "\\") {
                        escaped = true
                    } else if byte == UInt8(ascii: "\"") {
                        inString = false
                        if depth == 0 {
                            finished = true
                            break
                        }
                    }
                    continue
                }
                switch byte {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { finished = true }
                default: break
                }
                if finished { break }
            }
            captured.append(contentsOf: buffer[reader.position..<index])
            reader.position = index
            if captured.count > limit {
                throw InputProblem(line: startLine, column: startColumn, message: "a record larger than \(limit / (1024 * 1024)) MiB")
            }
            if finished { break scan }
        }
        if captured.isEmpty {
            throw try peek() == nil ? problem("unexpected end of file where a value was expected") : problem("expected a value")
        }
        do {
            let value = try JSONParser.parse(captured, origin: JSONParser.Origin(line: startLine, column: startColumn))
            return (value, startLine)
        } catch {
            throw InputProblem(line: error.line, column: error.column, message: error.message)
        }
    }
}
