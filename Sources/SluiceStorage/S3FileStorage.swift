public import AsyncHTTPClient
import Foundation
public import NIOCore
import NIOFileSystem
import NIOFoundationCompat
import NIOHTTP1

/// Files in an S3-compatible bucket (AWS S3, MinIO, moto…), under a prefix, over the
/// AsyncHTTPClient already in use and signed with ``SigV4``: path-style URLs
/// (`ENDPOINT/BUCKET/KEY`), so any endpoint works.
///
/// Nothing is ever whole in memory: uploads go up in parts of ``partSize`` (one in memory at a
/// time) once larger than a part, downloads stream.
public final class S3FileStorage: FileStorage {
    public let bucket: String
    public let prefix: String
    let endpoint: URL
    let signer: SigV4
    let http: HTTPClient
    public let spoolDirectory: String

    /// Bytes per part of a multipart upload (S3's minimum for all but the last is 5 MiB).
    public static let partSize = 8 << 20

    /// `s3://BUCKET/PREFIX` with the endpoint, region and keys the AWS tools read from the
    /// environment: `AWS_ENDPOINT_URL` (default: AWS in the region), `AWS_REGION` (or
    /// `AWS_DEFAULT_REGION`, default `us-east-1`), `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`.
    public init(url: String, environment: [String: String], spoolDirectory: String, http: HTTPClient = .shared) throws {
        guard url.hasPrefix("s3://"), let components = URLComponents(string: url), let bucket = components.host, !bucket.isEmpty else {
            throw StorageError("expected s3://BUCKET/PREFIX, not \(url)")
        }
        guard let key = environment["AWS_ACCESS_KEY_ID"], let secret = environment["AWS_SECRET_ACCESS_KEY"] else {
            throw StorageError("s3:// uploads need AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        }
        let region = environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
        guard let endpoint = URL(string: environment["AWS_ENDPOINT_URL"] ?? "https://s3.\(region).amazonaws.com"),
            endpoint.host != nil
        else { throw StorageError("AWS_ENDPOINT_URL is not a URL") }
        self.bucket = bucket
        prefix = components.path.split(separator: "/").joined(separator: "/")
        self.endpoint = endpoint
        signer = SigV4(accessKey: key, secretKey: secret, region: region)
        self.http = http
        self.spoolDirectory = spoolDirectory
        try FileManager.default.createDirectory(atPath: spoolDirectory, withIntermediateDirectories: true)
    }

    func key(_ name: String) -> String { prefix.isEmpty ? name : prefix + "/" + name }

    func location(_ key: String) -> String { "s3://\(bucket)/\(key)" }

    func key(of location: String) throws -> String {
        let head = "s3://\(bucket)/"
        guard location.hasPrefix(head) else { throw StorageError("\(location) is not in bucket \(bucket)") }
        return String(location.dropFirst(head.count))
    }

    // MARK: - FileStorage

    /// Reads the spooled file through NIO's file system (its thread pool, not the cooperative
    /// pool), one part at a time.
    public func keep(spooled path: String, as name: String) async throws -> String {
        let key = key(name)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            return try await RequestFiles.fileSystem.withFileHandle(forReadingAt: FilePath(path)) { handle in
                var parts = handle.readChunks(chunkLength: .bytes(Int64(Self.partSize))).makeAsyncIterator()
                let first = try await parts.next() ?? ByteBuffer()
                if first.readableBytes < Self.partSize {
                    _ = try await send("PUT", key: key, body: Data(buffer: first))
                    return location(key)
                }
                let started = try await send("POST", key: key, query: [("uploads", "")])
                guard let uploadID = Self.element("UploadId", in: started.body).first else {
                    throw StorageError("S3 started no multipart upload")
                }
                do {
                    var etags: [String] = []
                    var part: ByteBuffer? = first
                    while let bytes = part, bytes.readableBytes > 0 {
                        let reply = try await send(
                            "PUT", key: key, query: [("partNumber", String(etags.count + 1)), ("uploadId", uploadID)],
                            body: Data(buffer: bytes))
                        guard let etag = reply.headers.first(name: "etag") else {
                            throw StorageError("S3 gave part \(etags.count + 1) no ETag")
                        }
                        etags.append(etag)
                        part = try await parts.next()
                    }
                    let list = etags.enumerated().map { "<Part><PartNumber>\($0.offset + 1)</PartNumber><ETag>\($0.element)</ETag></Part>" }
                    let done = try await send(
                        "POST", key: key, query: [("uploadId", uploadID)],
                        body: Data("<CompleteMultipartUpload>\(list.joined())</CompleteMultipartUpload>".utf8))
                    // S3 can answer 200 and put the error in the body.
                    if let code = Self.element("Code", in: done.body).first {
                        throw StorageError("S3 refused to complete the upload: \(code)")
                    }
                    return location(key)
                } catch {
                    _ = try? await send("DELETE", key: key, query: [("uploadId", uploadID)])
                    throw error
                }
            }
        } catch let error as FileSystemError where error.code == .notFound {
            throw StorageError("spooled file \(path) is missing")
        }
    }

    public func copy(_ location: String, to name: String) async throws -> String {
        let source = try key(of: location)
        let target = key(name)
        let reply = try await send(
            "PUT", key: target, headers: [("x-amz-copy-source", "/\(bucket)/" + SigV4.encode(source, keepSlash: true))])
        if let code = Self.element("Code", in: reply.body).first { throw StorageError("S3 refused to copy \(location): \(code)") }
        return self.location(target)
    }

    public func read(_ location: String, range: Range<Int>?, _ consume: (ByteBuffer) async throws -> Void) async throws {
        if let range, range.isEmpty { return }
        let headers = range.map { [("Range", "bytes=\($0.lowerBound)-\($0.upperBound - 1)")] } ?? []
        let response = try await execute("GET", key: try key(of: location), query: [], headers: headers, body: nil)
        guard response.status == (range == nil ? .ok : .partialContent) else {
            let body = try await response.body.collect(upTo: 1 << 16)
            throw Self.failure(response.status, body: Data(buffer: body), doing: "GET \(location)")
        }
        for try await chunk in response.body { try await consume(chunk) }
    }

    public func size(of location: String) async throws -> Int {
        let response = try await execute("HEAD", key: try key(of: location), query: [], headers: [], body: nil)
        guard response.status == .ok, let length = response.headers.first(name: "Content-Length").flatMap(Int.init) else {
            throw StorageError("S3 answered \(response.status.code) to HEAD \(location)")
        }
        return length
    }

    /// Downloads to the spool through NIO's file system, then runs `body` on the copy.
    public func withLocalFile<T>(_ location: String, _ body: (String) async throws -> T) async throws -> T {
        let path = spoolDirectory + "/download-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await RequestFiles.fileSystem.withFileHandle(forWritingAt: FilePath(path), options: .newFile(replaceExisting: false)) {
            handle in
            try await handle.withBufferedWriter { writer in
                try await read(location) { chunk in _ = try await writer.write(contentsOf: chunk) }
            }
        }
        return try await body(path)
    }

    public func remove(folder name: String) async throws {
        try? FileManager.default.removeItem(atPath: spoolDirectory + "/" + name)
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", key(name) + "/")]
            if let token { query.append(("continuation-token", token)) }
            let listing = try await send("GET", key: nil, query: query)
            for key in Self.element("Key", in: listing.body) { _ = try await send("DELETE", key: key) }
            token = Self.element("NextContinuationToken", in: listing.body).first
        } while token != nil
    }

    // MARK: - Requests

    struct Reply {
        var headers: HTTPHeaders
        var body: Data
    }

    /// A request whose answer is small: its body is read whole; any status but 2xx throws.
    func send(
        _ method: String, key: String?, query: [(String, String)] = [], headers: [(String, String)] = [], body: Data? = nil
    ) async throws -> Reply {
        let response = try await execute(method, key: key, query: query, headers: headers, body: body)
        let data = Data(buffer: try await response.body.collect(upTo: 16 << 20))
        guard (200..<300).contains(response.status.code) else {
            throw Self.failure(response.status, body: data, doing: "\(method) \(key ?? bucket)")
        }
        return Reply(headers: response.headers, body: data)
    }

    func execute(
        _ method: String, key: String?, query: [(String, String)], headers: [(String, String)], body: Data?
    ) async throws -> HTTPClientResponse {
        let path = "/" + SigV4.encode(bucket) + (key.map { "/" + SigV4.encode($0, keepSlash: true) } ?? "")
        let queryText = query.map { SigV4.encode($0.0) + "=" + SigV4.encode($0.1) }.joined(separator: "&")
        var base = endpoint.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        var request = HTTPClientRequest(url: base + path + (queryText.isEmpty ? "" : "?" + queryText))
        request.method = HTTPMethod(rawValue: method)
        let host = endpoint.port.map { "\(endpoint.host!):\($0)" } ?? endpoint.host!
        let payload = body.map { SigV4.hash($0) } ?? SigV4.hash(Data())
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        for (name, value) in signer.sign(
            method: method, host: host, path: path, query: query, headers: headers, payloadHash: payload, date: Date())
        {
            request.headers.add(name: name, value: value)
        }
        if let body {
            request.body = .bytes(ByteBuffer(data: body))
            request.headers.add(name: "Content-Length", value: String(body.count))
        }
        return try await http.execute(request, timeout: .seconds(300))
    }

    static func failure(_ status: HTTPResponseStatus, body: Data, doing what: String) -> StorageError {
        let code = element("Code", in: body).first ?? "no error code"
        return StorageError("S3 answered \(status.code) (\(code)) to \(what)")
    }

    /// The texts of every `<name>…</name>` in an S3 XML answer (keys Sluice writes need no
    /// unescaping beyond the five XML entities).
    static func element(_ name: String, in body: Data) -> [String] {
        let text = String(decoding: body, as: UTF8.self)
        var found: [String] = []
        var rest = text[...]
        while let open = rest.range(of: "<\(name)>"), let close = rest[open.upperBound...].range(of: "</\(name)>") {
            found.append(
                String(rest[open.upperBound..<close.lowerBound]).replacingOccurrences(of: "&quot;", with: "\"")
                    .replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
                    .replacingOccurrences(of: "&apos;", with: "'").replacingOccurrences(of: "&amp;", with: "&"))
            rest = rest[close.upperBound...]
        }
        return found
    }
}
