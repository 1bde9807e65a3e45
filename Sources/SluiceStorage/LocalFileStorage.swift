import Foundation
public import NIOCore
import NIOFileSystem

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

    public func size(of location: String) async throws -> Int {
        guard let size = (try? FileManager.default.attributesOfItem(atPath: location))?[.size] as? NSNumber else {
            throw StorageError("file \(location) is missing")
        }
        return size.intValue
    }

    public func withLocalFile<T>(_ location: String, _ body: (String) async throws -> T) async throws -> T {
        try await body(location)
    }

    public func remove(folder name: String) async throws {
        try? FileManager.default.removeItem(atPath: directory + "/" + name)
    }
}
