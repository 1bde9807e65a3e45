import Testing

@testable import SluiceServer

@Suite struct MultipartParserTests {
    /// Parses `body` fed in chunks of `size`, joining each part's data.
    func parse(_ body: String, boundary: String = "XyZ", chunk size: Int) throws -> [(MultipartParser.Part, String)] {
        var parser = MultipartParser(boundary: boundary)
        var parts: [(MultipartParser.Part, [UInt8])] = []
        let bytes = Array(body.utf8)
        var start = 0
        while start < bytes.count {
            let end = min(start + size, bytes.count)
            for event in try parser.feed(bytes[start..<end]) {
                switch event {
                case .partStart(let part): parts.append((part, []))
                case .data(let data): parts[parts.count - 1].1 += data
                case .partEnd: break
                }
            }
            start = end
        }
        try parser.finish()
        return parts.map { ($0.0, String(decoding: $0.1, as: UTF8.self)) }
    }

    let body =
        "preamble\r\n--XyZ\r\nContent-Disposition: form-data; name=\"spec\"\r\n\r\n{\"preset\": \"x\"}\r\n"
        + "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a b.csv\"\r\nContent-Type: text/csv\r\n\r\n"
        + "id,text\r\n1,\"--XyZ is not a boundary without CRLF before it\"\r\n--Xy\r\n"
        + "--XyZ--\r\nepilogue"

    @Test(arguments: [1, 2, 3, 7, 16, 64, 65_536])
    func partsComeOutWholeAtAnyChunkSize(size: Int) throws {
        let parts = try parse(body, chunk: size)
        #expect(parts.map(\.0.name) == ["spec", "file"])
        #expect(parts[0].1 == "{\"preset\": \"x\"}")
        #expect(parts[1].0.filename == "a b.csv")
        #expect(parts[1].0.contentType == "text/csv")
        #expect(parts[1].1 == "id,text\r\n1,\"--XyZ is not a boundary without CRLF before it\"\r\n--Xy")
    }

    @Test func malformedBodiesAreRefused() {
        #expect(throws: MultipartParser.Failure.self) {
            try parse("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end", chunk: 4)
        }
        #expect(throws: MultipartParser.Failure.self) { try parse("--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--", chunk: 4) }
        #expect(throws: MultipartParser.Failure.self) { try parse("--XyZjunk\r\n", chunk: 64) }
    }

    @Test func theBoundaryComesFromTheContentType() {
        #expect(MultipartParser.boundary(fromContentType: "multipart/form-data; boundary=abc") == "abc")
        #expect(MultipartParser.boundary(fromContentType: "Multipart/Form-Data; charset=utf-8; boundary=\"a b\"") == "a b")
        #expect(MultipartParser.boundary(fromContentType: "multipart/mixed; boundary=abc") == nil)
        #expect(MultipartParser.boundary(fromContentType: "multipart/form-data") == nil)
    }
}
