import Foundation
import SluiceZlib

/// Writes ZIP archives byte by byte, so tests can make the hostile ones no zip tool would: sizes
/// that lie, names that climb out, a wrong CRC, an encrypted flag, ZIP64 records.
public struct ZipBuilder {
    public struct Entry {
        public var name: String
        public var data: [UInt8]
        public var deflate = false
        /// What the directory claims, when it is to lie.
        public var declaredSize: Int?
        public var crc: UInt32?
        public var flags = 0
        public var method: Int?

        public init(name: String, data: [UInt8], deflate: Bool = false) {
            self.name = name
            self.data = data
            self.deflate = deflate
        }
    }

    public var entries: [Entry] = []
    /// Written with a ZIP64 end record (as archives of over 65,535 entries must be).
    public var zip64 = false

    public init() {}

    public mutating func add(_ name: String, _ data: [UInt8], deflate: Bool = false) {
        entries.append(Entry(name: name, data: data, deflate: deflate))
    }

    public mutating func add(_ name: String, _ text: String, deflate: Bool = true) {
        add(name, Array(text.utf8), deflate: deflate)
    }

    public func write(to path: String) throws {
        try Data(bytes()).write(to: URL(fileURLWithPath: path))
    }

    public func bytes() -> [UInt8] {
        var out: [UInt8] = []
        var directory: [UInt8] = []
        for entry in entries {
            let stored = entry.deflate ? Self.deflated(entry.data) : entry.data
            let crc = entry.crc ?? UInt32(entry.data.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) })
            let method = entry.method ?? (entry.deflate ? 8 : 0)
            let name = Array(entry.name.utf8)
            let size = entry.declaredSize ?? entry.data.count
            let offset = out.count
            var common: [UInt8] = Self.le(20, 2) + Self.le(entry.flags, 2) + Self.le(method, 2) + [0, 0, 0x21, 0]
            common += Self.le(Int(crc), 4) + Self.le(stored.count, 4) + Self.le(size, 4) + Self.le(name.count, 2) + Self.le(0, 2)
            out += Self.le(0x0403_4B50, 4) + common + name + stored
            directory += Self.le(0x0201_4B50, 4) + Self.le(20, 2) + common + Self.le(0, 2) + Self.le(0, 2) + Self.le(0, 2)
            directory += Self.le(0, 4) + Self.le(offset, 4) + name
        }
        let start = out.count
        out += directory
        let count = entries.count
        if zip64 || count > 0xFFFF {
            let record = out.count
            out += Self.le(0x0606_4B50, 4) + Self.le(44, 8) + Self.le(45, 2) + Self.le(45, 2) + Self.le(0, 4) + Self.le(0, 4)
            out += Self.le(count, 8) + Self.le(count, 8) + Self.le(directory.count, 8) + Self.le(start, 8)
            out += Self.le(0x0706_4B50, 4) + Self.le(0, 4) + Self.le(record, 8) + Self.le(1, 4)
        }
        let short = min(count, 0xFFFF)
        out += Self.le(0x0605_4B50, 4) + Self.le(0, 2) + Self.le(0, 2) + Self.le(short, 2) + Self.le(short, 2)
        out += Self.le(directory.count, 4) + Self.le(start, 4) + Self.le(0, 2)
        return out
    }

    static func le(_ value: Int, _ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }

    /// Raw deflate (no zlib header), as ZIP stores it.
    public static func deflated(_ data: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        deflateInit2_(&stream, 9, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        defer { deflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(data.count))))
        var input = data
        let produced = input.withUnsafeMutableBufferPointer { source in
            out.withUnsafeMutableBufferPointer { target in
                stream.next_in = source.baseAddress
                stream.avail_in = uInt(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = uInt(target.count)
                deflate(&stream, Z_FINISH)
                return target.count - Int(stream.avail_out)
            }
        }
        return Array(out.prefix(produced))
    }
}
