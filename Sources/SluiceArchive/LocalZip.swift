import Foundation

/// A ZIP archive on this machine's disk, read with `pread`: its directory once, then any entry,
/// whole or its first bytes, or streamed to a file.
public final class LocalZip: @unchecked Sendable {
    public let directory: ZipDirectory
    public let size: Int
    let descriptor: Int32

    public init(path: String) throws(ZipError) {
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ZipError("the archive cannot be opened (\(String(cString: strerror(errno))))") }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            close(descriptor)
            throw ZipError("the archive cannot be read")
        }
        size = Int(status.st_size)
        do {
            directory = try Self.readDirectory(size: size) { [descriptor] range throws(ZipError) in try Self.read(descriptor, range) }
        } catch {
            close(descriptor)
            throw error
        }
    }

    deinit { close(descriptor) }

    /// The directory of an archive of `size` bytes, through `read`.
    static func readDirectory(size: Int, read: (Range<Int>) throws(ZipError) -> [UInt8]) throws(ZipError) -> ZipDirectory {
        let tail = ZipDirectory.tail(fileSize: size)
        var location = try ZipDirectory.locate(tail: try read(tail), tailStart: tail.lowerBound, fileSize: size)
        if case .zip64Record(let range) = location { location = try ZipDirectory.locate(zip64Record: try read(range), fileSize: size) }
        guard case .directory(let range, let count) = location else { throw ZipError("the archive is damaged") }
        return try ZipDirectory(directory: try read(range), count: count, fileSize: size)
    }

    static func read(_ descriptor: Int32, _ range: Range<Int>) throws(ZipError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: range.count)
        var done = 0
        while done < range.count {
            let got = bytes.withUnsafeMutableBytes {
                pread(descriptor, $0.baseAddress! + done, range.count - done, off_t(range.lowerBound + done))
            }
            if got < 0, errno == EINTR { continue }
            guard got > 0 else { throw ZipError("the archive is cut short (it ends before byte \(range.upperBound))") }
            done += got
        }
        return bytes
    }

    /// Streams `entry`'s unzipped data to `output`, at most `limit` bytes of it; with `prefix`,
    /// stops once that much has come (its CRC then unchecked).
    public func unzip(_ entry: ZipEntry, limit: Int, prefix: Int? = nil, _ output: (UnsafeRawBufferPointer) throws -> Void) throws {
        let inflater = try ZipInflater(entry: entry, limit: limit)
        let header = try Self.read(descriptor, entry.headerOffset..<min(size, entry.headerOffset + ZipEntry.localHeaderLength))
        var at = try entry.dataOffset(localHeader: header)
        let end = at + entry.compressedSize
        guard end <= size else { throw ZipError("the archive is cut short (\(entry.name)'s data runs past its end)") }
        struct Enough: Error {}
        do {
            while at < end {
                let chunk = try Self.read(descriptor, at..<min(end, at + (256 << 10)))
                at += chunk.count
                try chunk.withUnsafeBytes { bytes in
                    try inflater.feed(bytes) { piece in
                        try output(piece)
                        if let prefix, inflater.produced >= prefix { throw Enough() }
                    }
                }
            }
        } catch is Enough {
            return
        }
        try inflater.finish()
    }

    /// `entry`'s unzipped bytes, or the first `prefix` of them.
    public func bytes(of entry: ZipEntry, limit: Int, prefix: Int? = nil) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try unzip(entry, limit: limit, prefix: prefix) { bytes += $0 }
        return bytes
    }

    /// Writes `entry`'s unzipped data to a new file at `path`.
    public func extract(_ entry: ZipEntry, to path: String, limit: Int) throws {
        guard
            let file = FileHandle(forWritingAtPath: path)
                ?? (FileManager.default.createFile(atPath: path, contents: nil) ? FileHandle(forWritingAtPath: path) : nil)
        else { throw ZipError("cannot write \(path)") }
        defer { try? file.close() }
        try unzip(entry, limit: limit) { try file.write(contentsOf: Data($0)) }
    }
}
