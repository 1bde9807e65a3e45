import Foundation

#if canImport(Glibc)
    import Glibc
#else
    import Darwin
#endif

/// A streaming `multipart/form-data` parser: fed the body chunk by chunk, it hands out part
/// headers and part bytes as they arrive, so a file part of any size passes through in
/// memory no bigger than a chunk plus the boundary.
///
/// Pure: no I/O, no allocation per byte; the caller decides where each part's bytes go.
struct MultipartParser {
    /// What the parser found in the bytes it was given.
    enum Event: Equatable {
        case partStart(Part)
        case data(ArraySlice<UInt8>)
        case partEnd
    }

    /// A part's form name, file name and content type, from its headers.
    struct Part: Equatable {
        var name: String
        var filename: String?
        var contentType: String?
    }

    struct Failure: Error, Equatable, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    enum State {
        /// Before the first boundary (a preamble is allowed and ignored).
        case preamble
        /// Just after a boundary: `--` ends the body, a line break starts a part.
        case afterBoundary
        case headers
        case body
        case epilogue
    }

    /// The longest header block a part may have.
    static let maxHeaderBytes = 16 * 1024

    let delimiter: [UInt8]
    var state = State.preamble
    var pending: [UInt8] = []

    /// `boundary` from the request's `Content-Type`.
    init(boundary: String) {
        // The first boundary may open the body with no line break before it; pretending one
        // was there lets a single delimiter, `CRLF--boundary`, find every boundary.
        delimiter = Array("\r\n--\(boundary)".utf8)
        pending = [0x0D, 0x0A]
    }

    /// The boundary parameter of a `multipart/form-data` content type, if it is one.
    static func boundary(fromContentType contentType: String) -> String? {
        let pieces = contentType.split(separator: ";").map { $0.trimmingCharacters(in: " \t") }
        guard pieces.first?.lowercased() == "multipart/form-data" else { return nil }
        for piece in pieces.dropFirst() where piece.lowercased().hasPrefix("boundary=") {
            var value = piece.dropFirst("boundary=".count)
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = value.dropFirst().dropLast() }
            return value.isEmpty || value.count > 200 ? nil : String(value)
        }
        return nil
    }

    var isFinished: Bool { state == .epilogue }

    /// Consumes `chunk` and reports what it completed; bytes that might begin a boundary are
    /// held back until the next chunk shows whether they do.
    mutating func feed(_ chunk: some Collection<UInt8>) throws(Failure) -> [Event] {
        pending.append(contentsOf: chunk)
        var events: [Event] = []
        var start = 0
        loop: while true {
            switch state {
            case .preamble:
                guard let found = find(delimiter, from: start) else {
                    start = max(start, pending.count - delimiter.count + 1)
                    break loop
                }
                start = found + delimiter.count
                state = .afterBoundary
            case .afterBoundary:
                guard pending.count - start >= 2 else { break loop }
                if pending[start] == 0x2D, pending[start + 1] == 0x2D {
                    state = .epilogue
                    start = pending.count
                    break loop
                }
                // Transport padding (spaces, tabs) may sit between the boundary and its line break.
                var cursor = start
                while cursor < pending.count, pending[cursor] == 0x20 || pending[cursor] == 0x09 { cursor += 1 }
                guard pending.count - cursor >= 2 else { break loop }
                guard pending[cursor] == 0x0D, pending[cursor + 1] == 0x0A else {
                    throw Failure(message: "malformed multipart body: a boundary is not followed by a line break")
                }
                start = cursor + 2
                state = .headers
            case .headers:
                guard let end = find([0x0D, 0x0A, 0x0D, 0x0A], from: start) else {
                    if pending.count - start > Self.maxHeaderBytes {
                        throw Failure(message: "malformed multipart body: part headers longer than \(Self.maxHeaderBytes) bytes")
                    }
                    break loop
                }
                events.append(.partStart(try Self.part(headers: pending[start..<end])))
                start = end + 4
                state = .body
            case .body:
                if let found = find(delimiter, from: start) {
                    if found > start { events.append(.data(pending[start..<found])) }
                    events.append(.partEnd)
                    start = found + delimiter.count
                    state = .afterBoundary
                } else {
                    // Everything but a tail that could be the start of the delimiter is part data.
                    let safe = pending.count - (delimiter.count - 1)
                    if safe > start {
                        events.append(.data(pending[start..<safe]))
                        start = safe
                    }
                    break loop
                }
            case .epilogue:
                start = pending.count
                break loop
            }
        }
        // The data slices keep the old buffer alive (copy on write), so dropping the consumed
        // bytes copies only the small unconsumed tail, never the data handed out.
        pending.removeFirst(start)
        return events
    }

    /// Throws unless the closing boundary was seen.
    func finish() throws(Failure) {
        guard state == .epilogue else {
            throw Failure(message: "malformed multipart body: it ends before the closing boundary")
        }
    }

    /// The first index at or after `from` where `needle` starts.
    func find(_ needle: [UInt8], from: Int) -> Int? {
        guard pending.count - from >= needle.count else { return nil }
        return pending.withUnsafeBufferPointer { haystack -> Int? in
            guard let base = haystack.baseAddress else { return nil }
            var position = from
            let last = pending.count - needle.count
            while position <= last {
                guard let hit = memchr(base + position, Int32(needle[0]), last - position + 1) else { return nil }
                let index = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                if memcmp(base + index, needle, needle.count) == 0 { return index }
                position = index + 1
            }
            return nil
        }
    }

    static func part(headers: ArraySlice<UInt8>) throws(Failure) -> Part {
        var name: String?
        var filename: String?
        var contentType: String?
        for line in String(decoding: headers, as: UTF8.self).split(separator: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let field = line[..<colon].trimmingCharacters(in: " \t").lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: " \t")
            switch field {
            case "content-disposition":
                for parameter in value.split(separator: ";").dropFirst() {
                    let pair = parameter.trimmingCharacters(in: " \t")
                    guard let equals = pair.firstIndex(of: "=") else { continue }
                    let key = pair[..<equals].lowercased()
                    var raw = pair[pair.index(after: equals)...]
                    if raw.hasPrefix("\""), raw.hasSuffix("\""), raw.count >= 2 { raw = raw.dropFirst().dropLast() }
                    let text = raw.replacingOccurrences(of: "\\\"", with: "\"")
                    if key == "name" { name = text } else if key == "filename" { filename = text }
                }
            case "content-type": contentType = value
            default: continue
            }
        }
        guard let name, !name.isEmpty else {
            throw Failure(message: "malformed multipart body: a part has no Content-Disposition name")
        }
        return Part(name: name, filename: filename, contentType: contentType)
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var slice = Substring(self)
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
