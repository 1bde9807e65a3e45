import Foundation

/// What an XML document says next.
enum XMLEvent: Equatable {
    /// A start tag, with its attributes; a self-closing tag is followed by its `end`.
    case start(String, [String: String])
    case end(String)
    case text(String)
}

/// A small pull parser for the XML a workbook is made of, reading a file (or bytes) in chunks.
///
/// Why not Foundation's `XMLParser`: on Linux it is libxml2, whose global state is not safe to
/// use from several threads at once — two uploads read in parallel crashed the process — and it
/// pushes events, so streaming a sheet row by row needed a thread of its own. Why not XMLCoder:
/// it decodes whole documents into objects, which for a 100,000-row sheet is exactly the
/// memory this must not use. Workbook XML is machine-written and plain: elements, attributes,
/// text, the five named entities, character references, CDATA, comments and processing
/// instructions — which is what this reads. A DTD is refused. Element names lose their prefix.
struct XMLPullReader {
    private var buffer: [UInt8] = []
    private var position = 0
    private let handle: FileHandle?
    private var atEnd: Bool
    private var pending: XMLEvent?
    /// The longest single token (a text run, a tag) accepted.
    static let maximumToken = 64 << 20

    init(data: Data) {
        buffer = Array(data)
        handle = nil
        atEnd = true
    }

    init(fileAt url: URL) throws(XLSXError) {
        do {
            handle = try FileHandle(forReadingFrom: url)
        } catch {
            throw XLSXError("cannot read the workbook: \(error.localizedDescription)")
        }
        atEnd = false
    }

    /// Reads more when fewer than `count` unread bytes are buffered; false if the file ends first.
    private mutating func ensure(_ count: Int) throws(XLSXError) -> Bool {
        while buffer.count - position < count {
            guard !atEnd, let handle else { return false }
            if position > 0 {
                buffer.removeFirst(position)
                position = 0
            }
            guard buffer.count < Self.maximumToken else { throw XLSXError("the workbook has an XML token larger than 64 MiB") }
            let chunk: Data?
            do {
                chunk = try handle.read(upToCount: 1 << 16)
            } catch {
                throw XLSXError("cannot read the workbook: \(error.localizedDescription)")
            }
            guard let chunk, !chunk.isEmpty else {
                atEnd = true
                return false
            }
            buffer.append(contentsOf: chunk)
        }
        return true
    }

    /// The offset (from `position`) where `marker` starts, reading on as needed.
    private mutating func find(_ marker: [UInt8], from start: Int = 0) throws(XLSXError) -> Int? {
        var offset = start
        while true {
            guard try ensure(offset + marker.count) else { return nil }
            let base = position + offset
            if buffer[base] == marker[0], marker.indices.allSatisfy({ buffer[base + $0] == marker[$0] }) { return offset }
            offset += 1
        }
    }

    private mutating func starts(with marker: String) throws(XLSXError) -> Bool {
        let bytes = Array(marker.utf8)
        guard try ensure(bytes.count) else { return false }
        return bytes.indices.allSatisfy { buffer[position + $0] == bytes[$0] }
    }

    mutating func next() throws(XLSXError) -> XMLEvent? {
        if let event = pending {
            pending = nil
            return event
        }
        while true {
            guard try ensure(1) else { return nil }
            guard buffer[position] == UInt8(ascii: "<") else {
                let end = try find([UInt8(ascii: "<")]) ?? (buffer.count - position)
                let text = try Self.decoded(buffer[position..<position + end])
                position += end
                return .text(text)
            }
            if try starts(with: "<?") {
                try skip(past: "?>")
            } else if try starts(with: "<!--") {
                try skip(past: "-->")
            } else if try starts(with: "<![CDATA[") {
                guard let end = try find(Array("]]>".utf8), from: 9) else { throw XLSXError("the workbook's XML ends inside CDATA") }
                let text = String(decoding: buffer[position + 9..<position + end], as: UTF8.self)
                position += end + 3
                return .text(text)
            } else if try starts(with: "<!") {
                throw XLSXError("the workbook's XML has a DTD, which is not read")
            } else {
                return try tag()
            }
        }
    }

    private mutating func skip(past marker: String) throws(XLSXError) {
        guard let end = try find(Array(marker.utf8)) else { throw XLSXError("the workbook's XML ends inside a \(marker) block") }
        position += end + marker.utf8.count
    }

    /// A start or end tag at `position`.
    private mutating func tag() throws(XLSXError) -> XMLEvent {
        // A `>` inside a quoted attribute value does not end the tag.
        var offset = 1
        var quote: UInt8?
        while true {
            guard try ensure(offset + 1) else { throw XLSXError("the workbook's XML ends inside a tag") }
            let byte = buffer[position + offset]
            if let open = quote {
                if byte == open { quote = nil }
            } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                quote = byte
            } else if byte == UInt8(ascii: ">") {
                break
            }
            offset += 1
        }
        var body = Array(buffer[position + 1..<position + offset])
        position += offset + 1
        if body.first == UInt8(ascii: "/") {
            return .end(Self.localName(String(decoding: body.dropFirst(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        let selfClosing = body.last == UInt8(ascii: "/")
        if selfClosing { body.removeLast() }
        let (name, attributes) = try Self.parseTag(body)
        if selfClosing { pending = .end(name) }
        return .start(name, attributes)
    }

    static func parseTag(_ body: [UInt8]) throws(XLSXError) -> (String, [String: String]) {
        var index = 0
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
        while index < body.count, !isSpace(body[index]) { index += 1 }
        let name = localName(String(decoding: body[0..<index], as: UTF8.self))
        guard !name.isEmpty else { throw XLSXError("the workbook's XML has a tag without a name") }
        var attributes: [String: String] = [:]
        while true {
            while index < body.count, isSpace(body[index]) { index += 1 }
            guard index < body.count else { break }
            let nameStart = index
            while index < body.count, body[index] != UInt8(ascii: "="), !isSpace(body[index]) { index += 1 }
            let key = String(decoding: body[nameStart..<index], as: UTF8.self)
            while index < body.count, isSpace(body[index]) { index += 1 }
            guard index < body.count, body[index] == UInt8(ascii: "=") else {
                throw XLSXError("the workbook's XML has an attribute '\(key)' without a value")
            }
            index += 1
            while index < body.count, isSpace(body[index]) { index += 1 }
            guard index < body.count, body[index] == UInt8(ascii: "\"") || body[index] == UInt8(ascii: "'") else {
                throw XLSXError("the workbook's XML has an unquoted attribute '\(key)'")
            }
            let quote = body[index]
            index += 1
            let valueStart = index
            while index < body.count, body[index] != quote { index += 1 }
            guard index < body.count else { throw XLSXError("the workbook's XML has an unclosed attribute '\(key)'") }
            attributes[key] = try decoded(body[valueStart..<index])
            index += 1
        }
        return (name, attributes)
    }

    /// Text with its entities and character references replaced.
    static func decoded(_ bytes: ArraySlice<UInt8>) throws(XLSXError) -> String {
        guard bytes.contains(UInt8(ascii: "&")) else { return String(decoding: bytes, as: UTF8.self) }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "&") else {
                output.append(byte)
                index += 1
                continue
            }
            guard let semicolon = bytes[index...].firstIndex(of: UInt8(ascii: ";")), semicolon - index <= 12 else {
                throw XLSXError("the workbook's XML has a '&' that starts no entity")
            }
            let name = String(decoding: bytes[(index + 1)..<semicolon], as: UTF8.self)
            var scalar: Unicode.Scalar?
            switch name {
            case "amp": scalar = "&"
            case "lt": scalar = "<"
            case "gt": scalar = ">"
            case "quot": scalar = "\""
            case "apos": scalar = "'"
            default:
                if name.hasPrefix("#x") || name.hasPrefix("#X") {
                    scalar = UInt32(name.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init)
                } else if name.hasPrefix("#") {
                    scalar = UInt32(name.dropFirst()).flatMap(Unicode.Scalar.init)
                }
            }
            guard let scalar else { throw XLSXError("the workbook's XML has an unknown entity '&\(name);'") }
            output.append(contentsOf: Array(String(scalar).utf8))
            index = semicolon + 1
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// `x:sheet` and `sheet` are the same element.
    static func localName(_ name: String) -> String {
        name.split(separator: ":").last.map(String.init) ?? name
    }
}
