import SluiceZlib

/// An entry's data unzipped a chunk at a time — stored data passed through, deflated data
/// inflated — with what it really unzips to counted against a limit (the sizes an archive
/// declares are the sender's word) and its CRC-32 checked at the end.
public final class ZipInflater {
    let entry: ZipEntry
    let limit: Int
    private var stream = z_stream()
    private var inflating = false
    private var ended = false
    public private(set) var produced = 0
    private var crc: uLong = crc32(0, nil, 0)

    /// An entry whose declared size is over this many times its compressed size, and over a
    /// megabyte, is refused before it is read: deflate reaches about 1,000×, real files rarely
    /// 20× (a CSV of repeated rows perhaps 50×).
    public static let maxRatio = 200

    /// Refuses, before any byte is read, an entry that cannot be read, that declares more than
    /// `limit` bytes, or whose declared sizes look like a bomb.
    public init(entry: ZipEntry, limit: Int) throws(ZipError) {
        if let reason = entry.unreadable { throw ZipError(reason) }
        guard entry.size <= limit else { throw ZipError(Self.overLimit(entry.name, limit)) }
        // Deflate at worst adds 5 bytes a 16 KB block: more compressed data than that is no real entry.
        guard entry.compressedSize <= entry.size + entry.size / 1_000 + 1_024 else {
            throw ZipError("the archive is damaged (\(entry.name) has more compressed data than it could unzip to)")
        }
        if entry.size > 1 << 20, entry.size / max(entry.compressedSize, 1) > Self.maxRatio {
            throw ZipError(
                "\(entry.name) would unzip to \(entry.size / max(entry.compressedSize, 1))× its compressed size, over the \(Self.maxRatio)× an archive may"
            )
        }
        self.entry = entry
        self.limit = limit
        if entry.method == 8 {
            guard inflateInit2_(&stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                throw ZipError("zlib could not start inflating \(entry.name)")
            }
            inflating = true
        }
    }

    deinit {
        if inflating { inflateEnd(&stream) }
    }

    static func overLimit(_ name: String, _ limit: Int) -> String {
        "\(name) unzips to more than \(limit >= 1 << 20 ? "\(limit >> 20) MB" : "\(limit) bytes"), the most read of it"
    }

    /// Feeds compressed bytes, handing each piece of unzipped data to `output`.
    public func feed(_ input: UnsafeRawBufferPointer, _ output: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !ended, input.count > 0 else { return }
        guard inflating else { return try emit(input, output) }
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
        stream.avail_in = uInt(input.count)
        repeat {
            let (status, made) = buffer.withUnsafeMutableBytes { out -> (Int32, Int) in
                stream.next_out = out.bindMemory(to: Bytef.self).baseAddress
                stream.avail_out = uInt(out.count)
                let status = inflate(&stream, Z_NO_FLUSH)
                return (status, out.count - Int(stream.avail_out))
            }
            guard status == Z_OK || status == Z_STREAM_END || (status == Z_BUF_ERROR && made == 0) else {
                throw ZipError("the archive is damaged (\(entry.name) does not inflate)")
            }
            if made > 0 { try buffer.withUnsafeBytes { try emit(UnsafeRawBufferPointer(rebasing: $0.prefix(made)), output) } }
            if status == Z_STREAM_END {
                ended = true
                break
            }
            if made == 0 { break }
        } while stream.avail_in > 0 || stream.avail_out == 0
        stream.next_in = nil
    }

    private func emit(_ bytes: UnsafeRawBufferPointer, _ output: (UnsafeRawBufferPointer) throws -> Void) throws {
        produced += bytes.count
        guard produced <= limit else { throw ZipError(Self.overLimit(entry.name, limit)) }
        guard produced <= entry.size else { throw ZipError("the archive is damaged (\(entry.name) unzips to more than its declared size)") }
        crc = crc32(crc, bytes.bindMemory(to: Bytef.self).baseAddress, uInt(bytes.count))
        try output(bytes)
    }

    /// After the last input: the data must have ended, at its declared size, with its CRC.
    public func finish() throws(ZipError) {
        guard !inflating || ended, produced == entry.size else {
            throw ZipError("the archive is damaged or cut short (\(entry.name) ends early)")
        }
        guard UInt32(crc) == entry.crc32 else { throw ZipError("the archive is damaged (\(entry.name) fails its CRC check)") }
    }
}
