import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A download that a broken connection can resume: every answer says `Accept-Ranges: bytes`
/// and carries a strong `ETag`; a request with one `Range` (and an `If-Range` that still
/// matches, if it sent one) gets `206` and just those bytes, one that asks past the end `416`.
enum Download {
    /// What a request asks of a representation.
    enum Ask: Equatable {
        case whole
        case part(Range<Int>)
        case unsatisfiable
    }

    static let ifRange = HTTPField.Name("If-Range")!

    /// What `Range` (and `If-Range`) ask of `size` bytes tagged `etag`. A header this does not
    /// serve — another unit, several ranges, bad syntax — asks for the whole, as RFC 9110 lets
    /// a server answer; an `If-Range` naming another version asks for the whole new one.
    static func ask(range header: String?, ifRange: String?, size: Int, etag: String) -> Ask {
        guard let header else { return .whole }
        if let ifRange, ifRange != etag { return .whole }
        guard header.hasPrefix("bytes=") else { return .whole }
        let spec = header.dropFirst("bytes=".count).trimmingCharacters(in: .whitespaces)
        let bounds = spec.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard !spec.contains(","), bounds.count == 2 else { return .whole }
        if bounds[0].isEmpty {
            guard let suffix = Int(bounds[1]) else { return .whole }
            guard suffix > 0, size > 0 else { return .unsatisfiable }
            return .part(max(0, size - suffix)..<size)
        }
        guard let start = Int(bounds[0]), start >= 0 else { return .whole }
        var last = size - 1
        if !bounds[1].isEmpty {
            guard let end = Int(bounds[1]), end >= start else { return .whole }
            last = min(end, size - 1)
        }
        guard start < size else { return .unsatisfiable }
        return .part(start..<(last + 1))
    }

    /// Answers `request` for a representation of `size` bytes, or of a size learnt only if a
    /// range needs it (`size` `nil`, `measure` says). `write` sends the bytes at the offsets
    /// given (all of them for `nil`).
    /// The answer is always an attachment named `filename` (cut to safe characters): a browser
    /// that opened a user's upload inline could run it as a page of this origin.
    static func response(
        _ request: Request, etag: String, filename: String, size knownSize: Int?, measure: () async throws -> Int,
        write: @escaping @Sendable (Range<Int>?, inout any ResponseBodyWriter) async throws -> Void
    ) async throws -> Response {
        var headers: HTTPFields = [
            .contentType: "application/octet-stream", .acceptRanges: "bytes", .eTag: etag,
            .contentDisposition: "attachment; filename=\"\(safeFilename(filename))\"",
        ]
        guard let rangeHeader = request.headers[.range] else {
            if let knownSize { headers[.contentLength] = String(knownSize) }
            return Response(status: .ok, headers: headers, body: body(range: nil, length: knownSize, write))
        }
        var size = knownSize ?? 0
        if knownSize == nil { size = try await measure() }
        switch ask(range: rangeHeader, ifRange: request.headers[ifRange], size: size, etag: etag) {
        case .whole:
            headers[.contentLength] = String(size)
            return Response(status: .ok, headers: headers, body: body(range: nil, length: size, write))
        case .part(let range):
            headers[.contentLength] = String(range.count)
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(size)"
            return Response(status: .partialContent, headers: headers, body: body(range: range, length: range.count, write))
        case .unsatisfiable:
            throw APIError(
                .rangeNotSatisfiable, code: "range_not_satisfiable", "the range \(rangeHeader) is outside the file's \(size) bytes",
                headers: [.contentRange: "bytes */\(size)"])
        }
    }

    /// `name` with every character but ASCII letters, digits, `.`, `-` and `_` made `_`, at
    /// most 100 of them: what a quoted `filename` can carry without escaping.
    static func safeFilename(_ name: String) -> String {
        let safe = String(
            name.unicodeScalars.prefix(100).map { scalar in
                scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "._-".unicodeScalars.contains(scalar))
                    ? Character(scalar) : "_"
            })
        return safe.isEmpty || safe.allSatisfy({ $0 == "." }) ? "download" : safe
    }

    static func body(
        range: Range<Int>?, length: Int?, _ write: @escaping @Sendable (Range<Int>?, inout any ResponseBodyWriter) async throws -> Void
    ) -> ResponseBody {
        ResponseBody(contentLength: length) { writer in
            try await write(range, &writer)
            try await writer.finish(nil)
        }
    }

    /// The part of `chunk`, found at `offset` of the whole, that falls in `range`.
    static func slice(_ chunk: [UInt8], at offset: Int, in range: Range<Int>?) -> ArraySlice<UInt8> {
        guard let range else { return chunk[...] }
        let wanted = (offset..<(offset + chunk.count)).clamped(to: range)
        return chunk[(wanted.lowerBound - offset)..<(wanted.upperBound - offset)]
    }
}
