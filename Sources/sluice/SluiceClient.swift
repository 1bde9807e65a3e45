import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SluiceCore

/// Talks to a running `sluice serve` over its HTTP API: what `submit`, `status`, `watch`,
/// `results`, the control verbs and `jobs` share. Refusals come back as ``ClientError`` in the
/// server's own words.
struct SluiceClient {
    let server: String
    let key: String?
    let http: HTTPClient

    /// Runs `body` with a client, and shuts its connections down however `body` ends.
    static func with<T>(_ options: ServerOptions, _ body: (SluiceClient) async throws -> T) async throws -> T {
        // A refused connection is retried until the connect timeout: keep that short for a person waiting.
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(timeout: .init(connect: .seconds(5))))
        let client = SluiceClient(server: options.resolvedServer, key: options.resolvedKey, http: http)
        do {
            let result = try await body(client)
            try await http.shutdown()
            return result
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    func request(_ method: HTTPMethod, _ path: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: server + path)
        request.method = method
        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        request.headers.add(name: "User-Agent", value: "sluice-cli")
        return request
    }

    /// Sends a request and returns its response, or throws the server's refusal.
    func send(_ request: HTTPClientRequest, timeout: TimeAmount = .seconds(60)) async throws -> HTTPClientResponse {
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: timeout)
        } catch {
            throw ClientError(message: "cannot reach the server at \(server): \(error)")
        }
        guard (200..<300).contains(response.status.code) else {
            let body = try? await response.body.collect(upTo: 1 << 20)
            throw ClientError(status: Int(response.status.code), body: body.map { String(buffer: $0) } ?? "")
        }
        return response
    }

    /// A JSON answer.
    func json(_ request: HTTPClientRequest) async throws -> JSONValue {
        let response = try await send(request)
        let body = try await response.body.collect(upTo: 64 << 20)
        do {
            return try JSONParser.parse(body.readableBytesView)
        } catch {
            throw ClientError(message: "the server's answer is not JSON: \(error.message)")
        }
    }

    func job(_ id: String) async throws -> RemoteJob {
        try RemoteJob(try await json(request(.GET, "/v1/jobs/\(Self.escape(id))")))
    }

    /// `POST /v1/jobs/{id}/{verb}`: cancel, pause, resume or retry.
    func control(_ id: String, _ verb: String) async throws -> RemoteJob {
        try RemoteJob(try await json(request(.POST, "/v1/jobs/\(Self.escape(id))/\(verb)")))
    }

    /// `POST /v1/jobs` with the files streamed from disk as a multipart body and the spec as its
    /// `spec` part: the whole of a large file is never in memory.
    func submit(files: [String], spec: JSONValue) async throws -> RemoteJob {
        let boundary = "sluice-" + UUID().uuidString
        var parts: [(head: String, path: String?)] = [
            (
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"spec\"\r\nContent-Type: application/json\r\n\r\n"
                    + JSONWriter.string(spec), nil
            )
        ]
        var length = 0
        for file in files {
            let name = URL(fileURLWithPath: file).lastPathComponent.replacingOccurrences(of: "\"", with: "%22")
            parts.append(
                (
                    "\r\n--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(name)\"\r\nContent-Type: application/octet-stream\r\n\r\n",
                    file
                ))
            let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.intValue ?? 0
            length += size
        }
        let tail = "\r\n--\(boundary)--\r\n"
        let sections = parts
        length += parts.reduce(0) { $0 + $1.head.utf8.count } + tail.utf8.count
        var request = request(.POST, "/v1/jobs")
        request.headers.add(name: "Content-Type", value: "multipart/form-data; boundary=\(boundary)")
        let chunks = AsyncThrowingStream<ByteBuffer, any Error> { continuation in
            let reading = Task.detached {
                do {
                    for part in sections {
                        continuation.yield(ByteBuffer(string: part.head))
                        guard let path = part.path else { continue }
                        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
                        defer { try? handle.close() }
                        while let data = try handle.read(upToCount: 1 << 20), !data.isEmpty {
                            continuation.yield(ByteBuffer(bytes: data))
                        }
                    }
                    continuation.yield(ByteBuffer(string: tail))
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in reading.cancel() }
        }
        request.body = .stream(chunks, length: .known(Int64(length)))
        return try RemoteJob(try await json(request))
    }

    /// `GET /v1/jobs/{id}/events`: calls `progress` with each snapshot until the job reaches a
    /// final status (or `until` says stop), reconnecting if the stream breaks off.
    func watch(_ id: String, until stop: (RemoteJob) -> Bool, progress: (RemoteJob) -> Void) async throws -> RemoteJob {
        var failures = 0
        while true {
            var last: RemoteJob?
            do {
                var request = request(.GET, "/v1/jobs/\(Self.escape(id))/events")
                request.headers.add(name: "Accept", value: "text/event-stream")
                let response = try await send(request, timeout: .hours(24 * 7))
                var parser = EventStreamParser()
                for try await chunk in response.body {
                    for event in parser.feed(String(buffer: chunk)) where event.name == "progress" {
                        let job = try RemoteJob(try JSONParser.parse(event.data))
                        last = job
                        progress(job)
                        if stop(job) { return job }
                    }
                }
                failures = 0
            } catch let error as ClientError where error.status != nil {
                throw error
            } catch {
                failures += 1
                if failures > 5 { throw ClientError(message: "lost the event stream of job \(id): \(error)") }
                try await Task.sleep(for: .seconds(Double(failures)))
            }
            // The stream ends after a final status; anything else was a broken connection.
            if let last, stop(last) { return last }
        }
    }

    static func escape(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? id
    }
}
