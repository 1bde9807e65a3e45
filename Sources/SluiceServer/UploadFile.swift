import Foundation

#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

#if canImport(Glibc)
    private let systemWrite = Glibc.write
#else
    private let systemWrite = Darwin.write
#endif

/// A file being written from an upload: counts bytes against the limit as they arrive and is
/// made durable (`fsync`) before anyone is told it is stored. One that is not finished is
/// removed, so a refused or broken upload leaves nothing half-written behind.
final class UploadFile {
    let path: String
    let limit: Int
    private(set) var bytes = 0
    private var descriptor: Int32
    private var finished = false

    /// Thrown when the body outgrows `limit`.
    struct TooLarge: Error {}

    init(path: String, limit: Int) throws {
        self.path = path
        self.limit = limit
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else { throw APIError(.internalServerError, code: "storage_error", "cannot create \(path): errno \(errno)") }
    }

    func write(_ chunk: UnsafeRawBufferPointer) throws {
        bytes += chunk.count
        guard bytes <= limit else { throw TooLarge() }
        try writeAll(chunk)
    }

    func write(_ chunk: ArraySlice<UInt8>) throws {
        try chunk.withUnsafeBytes { try write($0) }
    }

    private func writeAll(_ buffer: UnsafeRawBufferPointer) throws {
        guard var base = buffer.baseAddress else { return }
        var remaining = buffer.count
        while remaining > 0 {
            let written = systemWrite(descriptor, base, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                throw APIError(
                    .init(code: 507, reasonPhrase: "Insufficient Storage"), code: "storage_error", "cannot write the upload: errno \(errno)"
                )
            }
            remaining -= written
            base += written
        }
    }

    /// Flushes to disk and closes; the file is kept.
    func finish() throws {
        guard fsync(descriptor) == 0 else {
            throw APIError(
                .init(code: 507, reasonPhrase: "Insufficient Storage"), code: "storage_error", "cannot sync the upload: errno \(errno)")
        }
        close(descriptor)
        descriptor = -1
        finished = true
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
        if !finished { unlink(path) }
    }
}
