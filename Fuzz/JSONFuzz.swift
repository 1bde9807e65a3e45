import SluiceCore

/// libFuzzer target for the JSON parser (scripts/fuzz.sh json): any bytes either parse or are
/// refused with a position inside them, and whatever parses writes back as JSON that parses to
/// the same value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: start, count: count)
    do {
        let value = try JSONParser.parse(bytes)
        let written = JSONWriter.bytes(value)
        guard let again = try? JSONParser.parse(written), again == value else {
            fatalError("written back, \(value) does not parse to itself: \(String(decoding: written, as: UTF8.self))")
        }
    } catch {
        let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        check(error.line >= 1 && error.line <= lines.count, "line \(error.line) of \(lines.count)")
        check(error.column >= 1 && error.column <= lines[error.line - 1].count + 1, "column \(error.column)")
    }
    return 0
}
