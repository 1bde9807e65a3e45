import Foundation
public import NIOCore
import NIOFileSystem

/// Where uploaded files live: a folder on this machine's disk (the default), or an
/// S3-compatible bucket that every API process reaches. Files arrive spooled on local disk (see
/// ``spoolDirectory``) and are then kept; a kept file is named by its *location* — a path, or an
/// `s3://bucket/key` URL — which is what jobs and the files table store.
public protocol FileStorage: Sendable {
    /// Where uploads are written on this machine while they arrive.
    var spoolDirectory: String { get }

    /// Keeps the spooled file at `path` under `name` (`files/ID/0-in.jsonl`) and returns its
    /// location; the spooled copy is gone afterwards.
    func keep(spooled path: String, as name: String) async throws -> String

    /// Copies a kept file to `name`, so the copy outlives the original's deletion.
    func copy(_ location: String, to name: String) async throws -> String

    /// Streams a kept file's bytes to `consume`, in order: all of them, or those at the
    /// offsets `range` gives (a resumed download).
    func read(_ location: String, range: Range<Int>?, _ consume: (ByteBuffer) async throws -> Void) async throws

    /// Runs `body` with a local path holding the file's bytes: the file itself on disk, or a
    /// temporary download removed afterwards.
    func withLocalFile<T>(_ location: String, _ body: (String) async throws -> T) async throws -> T

    /// Removes everything kept under the folder `name`, and its spool. Missing is not an error.
    func remove(folder name: String) async throws
}

extension FileStorage {
    /// Streams all of a kept file's bytes to `consume`, in order.
    public func read(_ location: String, _ consume: (ByteBuffer) async throws -> Void) async throws {
        try await read(location, range: nil, consume)
    }
}

/// A storage failure, said without credentials or signatures.
public struct StorageError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Files in a folder of this machine: spooled where they are kept, so keeping costs nothing.
public struct LocalFileStorage: FileStorage {
    public let directory: String

    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    public var spoolDirectory: String { directory }

    public func keep(spooled path: String, as name: String) async throws -> String {
        let target = directory + "/" + name
        guard path != target else { return path }
        try FileManager.default.createDirectory(
            atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: path, toPath: target)
        return target
    }

    /// A hard link: the copy costs nothing and keeps the bytes when the original is deleted.
    public func copy(_ location: String, to name: String) async throws -> String {
        let target = directory + "/" + name
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.linkItem(atPath: location, toPath: target)
        return target
    }

    /// Read through NIO's file system, on its thread pool rather than the cooperative pool.
    public func read(_ location: String, range: Range<Int>?, _ consume: (ByteBuffer) async throws -> Void) async throws {
        do {
            try await RequestFiles.fileSystem.withFileHandle(forReadingAt: FilePath(location)) { handle in
                let chunks =
                    range.map { handle.readChunks(in: Int64($0.lowerBound)..<Int64($0.upperBound), chunkLength: .kibibytes(256)) }
                    ?? handle.readChunks(chunkLength: .kibibytes(256))
                for try await chunk in chunks { try await consume(chunk) }
            }
        } catch let error as FileSystemError where error.code == .notFound {
            throw StorageError("file \(location) is missing")
        }
    }

    public func withLocalFile<T>(_ location: String, _ body: (String) async throws -> T) async throws -> T {
        try await body(location)
    }

    public func remove(folder name: String) async throws {
        try? FileManager.default.removeItem(atPath: directory + "/" + name)
    }
}
