import Foundation

/// libFuzzer target for ZIP archives (scripts/fuzz.sh zip): any bytes are read as an archive or
/// refused with a ZipError; every file entry then unzips within its limit or is refused; no
/// entry name resolves outside the archive; nothing crashes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzZip(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-fuzz-zip-\(getpid()).zip")
    FileManager.default.createFile(atPath: url.path, contents: Data(bytes: start, count: count))
    defer { try? FileManager.default.removeItem(at: url) }
    let zip: LocalZip
    do { zip = try LocalZip(path: url.path) } catch { return 0 }
    for name in zip.directory.names {
        check(!name.hasPrefix("/") && !name.split(separator: "/").contains(".."), "entry name \(name) leaves the archive")
        guard let entry = zip.directory.files[name] else { fatalError("\(name) is listed but not kept") }
        if let bytes = try? zip.bytes(of: entry, limit: 1 << 20) {
            check(bytes.count <= 1 << 20 && bytes.count == entry.size, "\(name) unzipped to \(bytes.count) of \(entry.size)")
        }
        if let head = try? zip.bytes(of: entry, limit: 1 << 20, prefix: 64) { check(head.count <= 1 << 20, "a prefix past the limit") }
    }
    return 0
}
