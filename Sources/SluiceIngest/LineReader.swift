/// Splits a ``ByteReader`` into lines (LF or CRLF), numbering them from 1.
final class LineReader {
    let reader: ByteReader
    private(set) var lineNumber = 0
    var line: [UInt8] = []
    let maximumLength: Int

    init(reader: ByteReader, maximumLength: Int = RecordLimit.bytes) {
        self.reader = reader
        self.maximumLength = maximumLength
    }

    /// Loads the next line into ``line`` without its terminator; false at the end of the file.
    func advance() throws(InputProblem) -> Bool {
        if lineNumber == 0 { try reader.skipByteOrderMark() }
        line.removeAll(keepingCapacity: true)
        var sawAny = false
        while try reader.hasBytes() {
            sawAny = true
            let buffer = reader.buffer
            var index = reader.position
            while index < reader.count, buffer[index] != 0x0A { index += 1 }
            line.append(contentsOf: buffer[reader.position..<index])
            if line.count > maximumLength {
                throw InputProblem(line: lineNumber + 1, message: "a line longer than \(maximumLength / (1024 * 1024)) MiB")
            }
            if index < reader.count {
                reader.position = index + 1
                break
            }
            reader.position = index
        }
        guard sawAny else { return false }
        lineNumber += 1
        if line.last == 0x0D { line.removeLast() }
        return true
    }

    /// The current line holds only spaces and tabs.
    var isBlank: Bool { line.allSatisfy { $0 == 0x20 || $0 == 0x09 } }
}
