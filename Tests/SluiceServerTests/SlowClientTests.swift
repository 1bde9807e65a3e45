import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import SluiceCore
import SluiceTestSupport
import Synchronization
import Testing

/// Clients that are slow, odd or greedy, over raw TCP where HTTP clients would be too polite:
/// each is answered with the right status and the API's JSON error, and cannot hold a
/// connection or the server's upload capacity forever.
@Suite struct SlowClientTests {
    /// The head's limit well inside the idle one, so each test meets the limit it is about. The
    /// idle limit runs from the connection's start: with the whole suite running, a client's
    /// first bytes once came more than 1.5 s after its connect, and the idle close (silent, as
    /// it should be) met the head test before its own limit could; 6 s leaves that margin.
    static let tight = (idle: 6.0, head: 0.3, uploadsPerKey: 4)

    @Test func aHeadThatStopsHalfwayIsAnswered408AndClosed() async throws {
        try await ServerHarness.with(workers: false, limits: Self.tight) { server in
            let reply = try await RawConnection.exchange(server, sending: ["GET /healthz HTTP/1.1\r\nHost: localhost\r\n"])
            #expect(reply.status == 408, "\(reply.text)")
            #expect(reply.json["error"]?["code"] == "request_timeout")
            #expect(reply.closed)
        }
    }

    @Test func bytesTrickledOneHeaderAtATimeDoNotHoldTheConnection() async throws {
        try await ServerHarness.with(workers: false, limits: Self.tight) { server in
            // A header line every 50 ms: never idle, never done; the head's clock runs from its first byte.
            let lines = ["GET /healthz HTTP/1.1\r\n"] + (0..<400).map { "X-Trickle-\($0): 1\r\n" }
            let reply = try await RawConnection.exchange(server, sending: lines, pacing: .milliseconds(50))
            #expect(reply.status == 408, "\(reply.text)")
            #expect(reply.closed)
            // Closed while the client still had lines to trickle: the trickle did not hold it.
            #expect(reply.linesSent < lines.count, "every one of \(lines.count) lines went out before the connection closed")
        }
    }

    @Test func tooManyOrTooLargeHeadersAre431AndNotHTTPIs400() async throws {
        try await ServerHarness.with(workers: false) { server in
            let many = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n" + (0..<150).map { "X-Many-\($0): 1\r\n" }.joined() + "\r\n"
            let manyReply = try await RawConnection.exchange(server, sending: [many])
            #expect(manyReply.status == 431, "\(manyReply.text)")
            #expect(manyReply.json["error"]?["code"] == "headers_too_large")

            let large = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Large: \(String(repeating: "a", count: 40_000))\r\n\r\n"
            let largeReply = try await RawConnection.exchange(server, sending: [large])
            #expect(largeReply.status == 431, "\(largeReply.text)")
            #expect(largeReply.closed)

            let garbage = try await RawConnection.exchange(server, sending: ["HELLO THERE\r\n\r\n"])
            #expect(garbage.status == 400, "\(garbage.text)")
            #expect(garbage.json["error"]?["code"] == "invalid_request")

            // Within the bounds, a request is answered as ever.
            let fine = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n" + (0..<50).map { "X-Fine-\($0): 1\r\n" }.joined() + "\r\n"
            #expect(try await RawConnection.exchange(server, sending: [fine], untilClosed: false).status == 200)
        }
    }

    @Test func anIdleConnectionIsClosedAndABusyOneIsNot() async throws {
        try await ServerHarness.with(workers: false, limits: Self.tight) { server in
            let idle = try await RawConnection.exchange(server, sending: [])
            #expect(idle.closed)
            #expect(idle.text.isEmpty, "an idle connection is closed without a word: \(idle.text)")
            // Two requests on one connection, the second after the first's answer: both answered.
            let twice = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"
            let reply = try await RawConnection.exchange(server, sending: [twice, twice], pacing: .milliseconds(100))
            #expect(reply.text.components(separatedBy: "HTTP/1.1 200").count == 3, "\(reply.text)")
        }
    }

    @Test func aKeyMayStreamOnlySoManyUploadsAtOnce() async throws {
        try await ServerHarness.with(workers: false, limits: (idle: 60, head: 10, uploadsPerKey: 2)) { server in
            let held = (0..<2).map { _ in OpenUpload(server) }
            try await waitUntil("two uploads streaming in") {
                metricValue(try await server.get("/metrics").text, "sluice_uploads_in_progress") == 2
            }
            let refused = try await server.submit(reviewsCSV(3))
            #expect(refused.status == 429)
            #expect(refused.errorCode == "too_many_uploads")
            #expect(refused.headers["Retry-After"].first == "5")
            #expect(try await server.get("/v1/jobs").json["data"]?.arrayValue?.isEmpty == true, "nothing was created")
            // One finishes: its job is created, and the key may upload again.
            #expect(try await held[0].finish() == 202)
            #expect(try await server.submit(reviewsCSV(3)).status == 202)
            #expect(try await held[1].finish() == 202)
        }
    }
}

/// An upload whose body the test holds open until ``finish()``.
final class OpenUpload: Sendable {
    let continuation: AsyncStream<ByteBuffer>.Continuation
    let response: Task<Int, any Error>

    init(_ server: ServerHarness) {
        let (body, continuation) = AsyncStream.makeStream(of: ByteBuffer.self)
        self.continuation = continuation
        continuation.yield(ByteBuffer(string: "id,text\n1,first row\n"))
        response = Task {
            var request = HTTPClientRequest(url: server.baseURL + "/v1/jobs?preset=text-classify")
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "text/csv")
            request.body = .stream(body, length: .unknown)
            return Int(try await server.http.execute(request, timeout: .seconds(60)).status.code)
        }
    }

    func finish() async throws -> Int {
        continuation.yield(ByteBuffer(string: "2,second row\n"))
        continuation.finish()
        return try await response.value
    }
}

/// One TCP connection to the server, for what an HTTP client would never send.
enum RawConnection {
    struct Reply {
        var text: String
        var closed: Bool
        var linesSent: Int
        var status: Int? { text.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } }
        var json: JSONValue {
            guard let start = text.range(of: "\r\n\r\n") else { return .null }
            return (try? JSONParser.parse(Array(text[start.upperBound...].utf8))) ?? .null
        }
    }

    /// Sends `pieces` (with `pacing` between them) and reads until the server closes the
    /// connection — or, with `untilClosed` false, until one whole response has arrived.
    static func exchange(
        _ server: ServerHarness, sending pieces: [String], pacing: Duration = .zero, untilClosed: Bool = true
    ) async throws -> Reply {
        let port = Int(server.baseURL.split(separator: ":").last!)!
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port) {
            channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
        let sent = SentCount()
        return try await channel.executeThenClose { inbound, outbound in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for piece in pieces {
                        guard (try? await outbound.write(ByteBuffer(string: piece))) != nil else { return }
                        sent.value.withLock { $0 += 1 }
                        if pacing > .zero { try await Task.sleep(for: pacing) }
                    }
                }
                // Only turns a server that neither answers nor closes into a failure.
                group.addTask {
                    try await Task.sleep(for: .seconds(30))
                    throw WaitTimeout(what: "the server to answer or close")
                }
                var text = ""
                var closed = true
                for try await chunk in inbound {
                    text += String(buffer: chunk)
                    if !untilClosed, Self.isWhole(text) {
                        closed = false
                        break
                    }
                }
                group.cancelAll()
                return Reply(text: text, closed: closed, linesSent: sent.value.withLock { $0 })
            }
        }
    }

    /// Whether `text` holds a whole response with a `Content-Length` body.
    static func isWhole(_ text: String) -> Bool {
        guard let end = text.range(of: "\r\n\r\n") else { return false }
        let head = text[..<end.lowerBound].lowercased()
        guard let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
            let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
        else { return false }
        return text.utf8.count - text[..<end.upperBound].utf8.count >= length
    }
}

final class SentCount: Sendable {
    let value = Mutex(0)
}
