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
