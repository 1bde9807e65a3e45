/// A ZIP archive's central directory: every entry's name, sizes and where its data is — read
/// from the archive's end without reading the entries themselves, so a 2 GB archive costs its
/// directory, not its size. ZIP64 (over 65,535 entries or 4 GB) included.
public struct ZipDirectory: Sendable {
    /// Files by their normalised name (see ``ZipPath``); folders, and names that climb out of
    /// the archive, are left out: nothing can ever resolve to them.
    public private(set) var files: [String: ZipEntry] = [:]
    /// The files' names in the archive's order.
    public private(set) var names: [String] = []

    /// Entries one archive may list: a catalogue of 80,000 photos fits twice over.
    public static let maxEntries = 200_000
    /// The most a central directory may take (about 300 bytes an entry at the limit above).
    public static let maxDirectoryBytes = 64 << 20

    /// What to read last: the end of central directory record sits in the archive's final
    /// 22 bytes plus its comment (at most 65,535), with a ZIP64 locator and record before it.
    public static func tail(fileSize: Int) -> Range<Int> {
        max(0, fileSize - (22 + 0xFFFF + 20 + 56))..<fileSize
    }

    /// Where the central directory is, from the archive's tail (read at `tailStart`): its
    /// bytes' range and entry count, or, for a ZIP64 record that lies before the tail, the
    /// range to read for it (then ``locate(zip64Record:)``).
    public enum Location: Equatable {
        case directory(Range<Int>, count: Int)
        case zip64Record(Range<Int>)
    }

    public static func locate(tail b: [UInt8], tailStart: Int, fileSize: Int) throws(ZipError) -> Location {
        guard b.count >= 22, let end = stride(from: b.count - 22, through: 0, by: -1).first(where: { ZipBytes.u32(b, $0) == 0x0605_4B50 })
        else { throw ZipError("not a ZIP archive (it has no end of central directory record)") }
        if end >= 20, ZipBytes.u32(b, end - 20) == 0x0706_4B50 {
            let record = ZipBytes.u64(b, end - 12)
            guard record >= 0, record <= fileSize - 56 else { throw ZipError("the archive is damaged (its ZIP64 record is out of place)") }
            let local = record - tailStart
            guard local >= 0, local + 56 <= b.count else { return .zip64Record(record..<record + 56) }
            return try locate(zip64Record: Array(b[local..<local + 56]), fileSize: fileSize)
        }
        guard ZipBytes.u16(b, end + 4) == 0, ZipBytes.u16(b, end + 6) == 0 else {
            throw ZipError("the archive spans several disks, which is not read")
        }
        return try directory(
            at: ZipBytes.u32(b, end + 16), size: ZipBytes.u32(b, end + 12), count: ZipBytes.u16(b, end + 10), fileSize: fileSize)
    }

    public static func locate(zip64Record b: [UInt8], fileSize: Int) throws(ZipError) -> Location {
        guard b.count >= 56, ZipBytes.u32(b, 0) == 0x0606_4B50 else {
            throw ZipError("the archive is damaged (its ZIP64 record is missing)")
        }
        return try directory(at: ZipBytes.u64(b, 48), size: ZipBytes.u64(b, 40), count: ZipBytes.u64(b, 32), fileSize: fileSize)
    }

    static func directory(at offset: Int, size: Int, count: Int, fileSize: Int) throws(ZipError) -> Location {
        guard count <= maxEntries else {
            throw ZipError("the archive lists \(count) entries; at most \(maxEntries) are read")
        }
        guard size <= maxDirectoryBytes else {
            throw ZipError("the archive's directory is over \(maxDirectoryBytes >> 20) MB; at most that is read")
        }
        guard offset >= 0, size >= 0, offset <= fileSize - size else {
            throw ZipError("the archive is damaged or cut short (its directory lies past its end)")
        }
        return .directory(offset..<offset + size, count: count)
    }

    /// Reads the central directory's `count` entries from its bytes.
    public init(directory b: [UInt8], count: Int, fileSize: Int) throws(ZipError) {
        var at = 0
        for read in 0..<count {
            guard at + 46 <= b.count, ZipBytes.u32(b, at) == 0x0201_4B50 else {
                throw ZipError("the archive is damaged (its directory ends after \(read) of \(count) entries)")
            }
            let nameLength = ZipBytes.u16(b, at + 28)
            let extraLength = ZipBytes.u16(b, at + 30)
            let commentLength = ZipBytes.u16(b, at + 32)
            let next = at + 46 + nameLength + extraLength + commentLength
            guard next <= b.count else { throw ZipError("the archive is damaged (an entry runs past its directory)") }
            var compressed = ZipBytes.u32(b, at + 20)
            var size = ZipBytes.u32(b, at + 24)
            var offset = ZipBytes.u32(b, at + 42)
            // ZIP64: the fields that overflowed are in the extra field, in this order.
            if compressed == 0xFFFF_FFFF || size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF {
                var extra = at + 46 + nameLength
                let extraEnd = extra + extraLength
                while extra + 4 <= extraEnd {
                    let id = ZipBytes.u16(b, extra)
                    let length = ZipBytes.u16(b, extra + 2)
                    if id == 1 {
                        var field = extra + 4
                        func take() throws(ZipError) -> Int {
                            guard field + 8 <= extra + 4 + length else { throw ZipError("the archive is damaged (a ZIP64 field is short)") }
                            defer { field += 8 }
                            return ZipBytes.u64(b, field)
                        }
                        if size == 0xFFFF_FFFF { size = try take() }
                        if compressed == 0xFFFF_FFFF { compressed = try take() }
                        if offset == 0xFFFF_FFFF { offset = try take() }
                        break
                    }
                    extra += 4 + length
                }
            }
            let raw = b[at + 46..<at + 46 + nameLength]
            let entry = ZipEntry(
                name: String(decoding: raw, as: UTF8.self), method: ZipBytes.u16(b, at + 10), crc32: UInt32(ZipBytes.u32(b, at + 16)),
                compressedSize: compressed, size: size, headerOffset: offset, encrypted: ZipBytes.u16(b, at + 8) & 1 != 0)
            at = next
            guard offset >= 0, compressed >= 0, offset <= fileSize - compressed else {
                throw ZipError("the archive is damaged or cut short (\(entry.name)'s data lies past its end)")
            }
            guard !entry.isDirectory, var name = ZipPath.resolve(entry.name) else { continue }
            if name.hasSuffix("/") { name.removeLast() }
            guard files[name] == nil else { throw ZipError("the archive holds two entries named \(name)") }
            var kept = entry
            kept.name = name
            files[name] = kept
            names.append(name)
        }
    }
}
