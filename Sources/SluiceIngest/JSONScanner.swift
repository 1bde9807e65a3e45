import SluiceCore

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
