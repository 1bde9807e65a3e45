#if canImport(Glibc)
    import Glibc
#endif

/// The file-reading parsers read paths: each input is written to one file in /dev/shm (memory),
/// rewritten per run.
enum FuzzFile {
    static let path = "/dev/shm/sluice-fuzz-\(getpid())"

    static func write(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        check(descriptor >= 0, "cannot write \(path)")
        var written = 0
        while written < bytes.count {
            let got = Glibc.write(descriptor, bytes.baseAddress! + written, bytes.count - written)
            check(got > 0, "cannot write \(path)")
            written += got
        }
        close(descriptor)
        return path
    }
}
