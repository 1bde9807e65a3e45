/// One file of a ZIP archive, as its central directory describes it. Sizes are the sender's word:
/// reading an entry counts what it really unzips to (see ``ZipInflater``).
public struct ZipEntry: Sendable, Equatable {
    /// The name normalised (see ``ZipPath``): `photos/mug.jpg`, never `./photos\mug.jpg`.
    public var name: String
    /// 0: stored as it is; 8: deflated. Anything else is not read.
    public var method: Int
    public var crc32: UInt32
    public var compressedSize: Int
    public var size: Int
    /// Where the entry's local header starts; its data follows that header.
    public var headerOffset: Int
    public var encrypted: Bool

    public var isDirectory: Bool { name.hasSuffix("/") }

    /// The local header's fixed part: its name and extra field follow, then the data.
    public static let localHeaderLength = 30

    /// Where the data starts, read from the entry's local header (whose extra field may differ
    /// from the central directory's).
    public func dataOffset(localHeader b: [UInt8]) throws(ZipError) -> Int {
        guard b.count >= Self.localHeaderLength, ZipBytes.u32(b, 0) == 0x0403_4B50 else {
            throw ZipError("the archive is damaged (\(name) has no local header where its directory says)")
        }
        return headerOffset + Self.localHeaderLength + ZipBytes.u16(b, 26) + ZipBytes.u16(b, 28)
    }

    /// Why this entry cannot be read at all, if it cannot.
    public var unreadable: String? {
        if encrypted { return "\(name) is encrypted" }
        if method != 0 && method != 8 { return "\(name) is compressed with method \(method); only stored and deflated entries are read" }
        return nil
    }
}

/// Little-endian fields.
enum ZipBytes {
    static func u16(_ b: [UInt8], _ at: Int) -> Int { Int(b[at]) | Int(b[at + 1]) << 8 }
    static func u32(_ b: [UInt8], _ at: Int) -> Int { u16(b, at) | u16(b, at + 2) << 16 }
    static func u64(_ b: [UInt8], _ at: Int) -> Int {
        // A value past Int.max is no real offset or size; it is clamped and then refused by the checks.
        let high = u32(b, at + 4)
        return high >= 1 << 31 ? Int.max : u32(b, at) | high << 32
    }
}
