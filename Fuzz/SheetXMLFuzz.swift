import Foundation

/// libFuzzer target for the XML reader behind spreadsheets (scripts/fuzz.sh sheet-xml): a part
/// read whole and read from a file in chunks gives the same events (text joined, as chunk edges
/// may split it) or the same refusal, and never crashes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSheetXML(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(bytes: start, count: count)
    let whole = events(XMLPullReader(data: data))
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-fuzz-sheet-\(getpid()).xml")
    FileManager.default.createFile(atPath: url.path, contents: data)
    defer { try? FileManager.default.removeItem(at: url) }
    if let reader = try? XMLPullReader(fileAt: url) {
        let chunked = events(reader)
        check(whole == chunked, "from memory: \(whole), from a file: \(chunked)")
    }
    return 0
}

struct Events: Equatable {
    var list: [XMLEvent] = []
    var refused: String?
}

func events(_ reader: XMLPullReader) -> Events {
    var reader = reader
    var result = Events()
    do {
        while let event = try reader.next(), result.list.count < 100_000 {
            if case .text(let more) = event, case .text(let sofar)? = result.list.last {
                result.list[result.list.count - 1] = .text(sofar + more)
            } else {
                result.list.append(event)
            }
        }
    } catch {
        result.refused = error.message
    }
    return result
}
