#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a file in fixed-size chunks so that parsing takes the same memory whatever the
/// file's size.
public final class ByteReader {
    /// Bytes of the current chunk; `position` is the next unread one.
    var buffer: [UInt8]
    var position = 0
    var count = 0
    let descriptor: Int32
    let chunkSize: Int
    /// Bytes of the file that earlier chunks held, so offsets can be reported file-wide.
    private(set) var consumedBefore = 0
    var isAtEnd = false

    public init(path: String, chunkSize: Int = 256 * 1024) throws(InputProblem) {
        descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw InputProblem(message: "cannot open the file: \(String(cString: strerror(errno)))")
        }
        self.chunkSize = chunkSize
        buffer = [UInt8](repeating: 0, count: chunkSize)
    }

    deinit { close(descriptor) }

    /// Reads the next chunk when the current one is used up; false at the end of the file.
    func refill() throws(InputProblem) -> Bool {
        guard position >= count else { return true }
        guard !isAtEnd else { return false }
        consumedBefore += count
        position = 0
        count = 0
        while true {
            let got = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, chunkSize) }
            if got < 0 {
                if errno == EINTR { continue }
                throw InputProblem(message: "cannot read the file: \(String(cString: strerror(errno)))")
            }
            count = got
            if got == 0 { isAtEnd = true }
            return got > 0
        }
    }

    /// True while unread bytes remain, reading the next chunk when needed.
    @inline(__always)
    func hasBytes() throws(InputProblem) -> Bool {
        position < count ? true : try refill()
    }

    /// The next byte without consuming it, or `nil` at the end of the file.
    func peek() throws(InputProblem) -> UInt8? {
        if position < count { return buffer[position] }
        return try refill() ? buffer[position] : nil
    }

    /// Offset of the next unread byte from the start of the file.
    var offset: Int { consumedBefore + position }

    /// Skips a UTF-8 byte-order mark at the very start of the file.
    func skipByteOrderMark() throws(InputProblem) {
        guard offset == 0 else { return }
        var head: [UInt8] = [0, 0, 0]
        let got = head.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, 3, 0) }
        guard got == 3, head == [0xEF, 0xBB, 0xBF] else { return }
        for _ in 0..<3 where try hasBytes() { position += 1 }
    }
}

/// Something wrong with an input file: where (line, column, counted from 1) and what.
public struct InputProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var line: Int?
    public var column: Int?
    /// A machine-readable reason, for the Batch API's error list.
    public var code: String?
    public var message: String

    public init(line: Int? = nil, column: Int? = nil, code: String? = nil, message: String) {
        self.line = line
        self.column = column
        self.code = code
        self.message = message
    }

    public var description: String {
        switch (line, column) {
        case (let line?, let column?): "line \(line), column \(column): \(message)"
        case (let line?, nil): "line \(line): \(message)"
        default: message
        }
    }
}
