import Foundation
public import NIOCore
import NIOFileSystem

/// Where uploaded files live: a folder on this machine's disk (the default), or an
/// S3-compatible bucket that every API and worker process reaches. Files arrive spooled on local disk (see
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

    /// A kept file's size in bytes (to read a ZIP archive from its end).
    func size(of location: String) async throws -> Int

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
