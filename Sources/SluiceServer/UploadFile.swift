import Crypto
import Foundation
import NIOCore
import NIOFileSystem
import SluiceStorage

/// A file being written from an upload: counts bytes against the limit as they arrive, and
/// appears under its name only once it is complete and on disk (`fsync`) — it is created
/// unnamed and linked in by ``finish()`` — so a refused or broken upload leaves nothing,
/// half-written or otherwise.
///
/// Every write and the sync go through NIO's file system, on its thread pool: the cooperative
/// pool has one thread per core, and one upload's `fsync` of 200 MB held there would stall every
/// request, worker loop and heartbeat of the process.
///
/// The owner ends it with ``finish()`` and, whatever happened, ``discard()`` (a dropped open
/// handle is a leaked descriptor, which NIO stops the process for).
final class UploadFile {
    let path: String
    let limit: Int
    private(set) var bytes = 0
    /// The SHA-256 of the bytes, in hex, once ``finish()`` has run: what an idempotent retry
    /// of the upload is recognised by. Empty when made without `digesting`.
    private(set) var digest = ""
    private var hasher: SHA256?
    private let handle: WriteFileHandle
    private var writer: BufferedWriter<WriteFileHandle>
    private var closed = false

    /// Thrown when the body outgrows `limit`.
    struct TooLarge: Error {}

    init(path: String, limit: Int, digesting: Bool = true) async throws {
        self.path = path
        self.limit = limit
        hasher = digesting ? SHA256() : nil
        handle = try await RequestFiles.fileSystem.openFile(
            forWritingAt: FilePath(path), options: .newFile(replaceExisting: false, permissions: [.ownerReadWrite, .groupRead]))
        writer = handle.bufferedWriter(capacity: .kibibytes(256))
    }

    func write(_ chunk: ByteBuffer) async throws {
        try count(chunk.readableBytes)
        chunk.withUnsafeReadableBytes { hasher?.update(bufferPointer: $0) }
        _ = try await writer.write(contentsOf: chunk)
    }

    func write(_ chunk: ArraySlice<UInt8>) async throws {
        try count(chunk.count)
        chunk.withUnsafeBytes { hasher?.update(bufferPointer: $0) }
        _ = try await writer.write(contentsOf: chunk)
    }

    private func count(_ more: Int) throws {
        bytes += more
        guard bytes <= limit else { throw TooLarge() }
    }

    /// Writes what is buffered, syncs it to disk, and gives the file its name.
    func finish() async throws {
        try await writer.flush()
        try await handle.synchronize()
        try await handle.close(makeChangesVisible: true)
        closed = true
        digest = hasher.map { $0.finalize().map { String(format: "%02x", $0) }.joined() } ?? ""
    }

    /// Closes the file without ever giving it its name: nothing is left. Does nothing once
    /// ``finish()`` has named it.
    func discard() async {
        guard !closed else { return }
        closed = true
        try? await handle.close(makeChangesVisible: false)
    }
}
