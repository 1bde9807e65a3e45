/// libFuzzer target for the multipart parser (scripts/fuzz.sh multipart): a body fed whole and
/// fed in pieces (sizes drawn from its first byte) gets the same verdict and, when good, the same
/// parts and bytes — none lost or invented at a piece's edge.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMultipart(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let step = Int(start[0] % 13) + 1
    let body = Array(UnsafeBufferPointer(start: start + 1, count: count - 1))
    let whole = parse(body, pieces: max(1, body.count))
    let pieces = parse(body, pieces: step)
    // The same verdict either way; the same parts and bytes when the body is good (a bad one is
    // refused whole, so what came before the flaw in each piece does not matter).
    check(whole.failure == pieces.failure, "whole: \(whole), in pieces of \(step): \(pieces)")
    if whole.failure == nil { check(whole == pieces, "whole: \(whole), in pieces of \(step): \(pieces)") }
    return 0
}

struct Parsed: Equatable {
    var events: [MultipartParser.Event] = []
    var failure: MultipartParser.Failure?
}

func parse(_ body: [UInt8], pieces size: Int) -> Parsed {
    var parser = MultipartParser(boundary: "fuzzboundary")
    var parsed = Parsed()
    do {
        var start = 0
        while start < body.count {
            parsed.events += try parser.feed(body[start..<min(start + size, body.count)])
            start += size
        }
        try parser.finish()
    } catch {
        parsed.failure = error
    }
    // Data arrives in different slices either way: compare each part's bytes joined.
    var merged: [MultipartParser.Event] = []
    for event in parsed.events {
        if case .data(let more) = event, case .data(let sofar)? = merged.last {
            merged[merged.count - 1] = .data(sofar + more)
        } else {
            merged.append(event)
        }
    }
    parsed.events = merged
    return parsed
}
