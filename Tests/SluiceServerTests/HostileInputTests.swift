import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import SluiceCore
import SluiceIngest
import SluiceProviders
import SluiceSpreadsheet
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceEngine
@testable import SluiceServer

/// What one user, or a web page, could send to crash the server, take its memory, drive it
/// from another site or read what it should not: each finding of the multi-tenant review, as
/// the request that found it.
@Suite struct HostileInputTests {
    @Test func deeplyNestedTemplateSectionsAreRefusedAndTheServerLives() async throws {
        try await ServerHarness.with(workers: false) { server in
            let template = String(repeating: "{{#a}}", count: 40_000) + "{{text}}"
            let reply = try await server.submitForm(fields: [("template", template)], files: [("in.csv", "text\nhi\n")])
            #expect(reply.status == 400 && reply.text.contains("nest more than \(PromptTemplate.maxSectionDepth) deep"), "\(reply.text)")
            #expect(try await server.get("/healthz").status == 200)
        }
    }

    @Test func withAuthOffOnlyLoopbackNamesAreServed() async throws {
        try await ServerHarness.with(workers: false) { server in
            // A page whose own name was re-pointed at 127.0.0.1 sends that name in Host, and an
            // Origin that agrees with it.
            let listed = try await server.call(.GET, "/v1/jobs", headers: [("Host", "evil.example")])
            #expect(listed.status == 421 && listed.errorCode == "host_refused")
            let created = try await server.call(
                .POST, "/v1/jobs?preset=text-classify",
                headers: [("Host", "evil.example:8080"), ("Origin", "http://evil.example:8080"), ("Content-Type", "text/csv")],
                body: .bytes(ByteBuffer(string: "text\nhi\n")))
            #expect(created.status == 421)
            #expect(try await server.get("/v1/jobs").json["data"]?.arrayValue?.isEmpty == true, "nothing was created")
            for host in ["localhost:8080", "127.0.0.1", "[::1]:8080", "127.5.6.7:1"] {
                #expect(try await server.call(.GET, "/v1/jobs", headers: [("Host", host)]).status == 200, "\(host)")
            }
        }
    }

    @Test func loopbackIsDecidedByTheAddressNotAPrefix() {
        for host in ["localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]", "LOCALHOST"] {
            #expect(Loopback.contains(host), "\(host)")
        }
        for host in ["127.evil.example", "127.0.0.1.evil.example", "localhost.evil.example", "0.0.0.0", "10.0.0.1", "::2", "127.1"] {
            #expect(!Loopback.contains(host), "\(host)")
        }
        var configuration = ServerConfiguration(uploadDirectory: "/tmp")
        configuration.allowedHosts = ["sluice.lan"]
        #expect(configuration.acceptsHost("sluice.lan:8080") && configuration.acceptsHost("[::1]:80"))
        #expect(!configuration.acceptsHost("evil.example") && !configuration.acceptsHost(""))
    }

    @Test func formsWithTooManyOrTooLargeFieldsAreRefused() async throws {
        try await ServerHarness.with(workers: false) { server in
            let many = try await server.submitForm(fields: (0...UploadReceiver.maxFields).map { ("f\($0)", "x") }, files: [])
            #expect(many.status == 400 && many.text.contains("too many parts"), "\(many.text)")
            let large = try await server.submitForm(
                fields: (0..<5).map { ("f\($0)", String(repeating: "x", count: 1_000_000)) }, files: [])
            #expect(large.status == 413 && large.errorCode == "fields_too_large", "\(large.text)")
        }
    }

    @Test func aJSONBodyOverItsRoutesLimitIs413() async throws {
        try await ServerHarness.with(workers: false) { server in
            let body = #"{"url": ""# + String(repeating: "a", count: 1 << 20) + #""}"#
            let reply = try await server.call(
                .POST, "/v1/webhooks", headers: [("Content-Type", "application/json")], body: .bytes(ByteBuffer(string: body)))
            #expect(reply.status == 413 && reply.errorCode == "body_too_large", "\(reply.text)")
        }
    }

    @Test func aCSVRecordPastItsLimitFailsTheJobNamingItsLine() async throws {
        try await ServerHarness.with(workers: false) { server in
            let csv = "text\nshort\n\"" + String(repeating: "a", count: RecordLimit.bytes + 10) + "\"\nafter\n"
            let reply = try await server.submit(csv)
            let id = try #require(reply.json["id"]?.stringValue, "\(reply.text)")
            let job = try await server.waitFor(id) { ServerHarness.isFinal($0) }
            #expect(job["status"] == "failed")
            let error = try #require(job["errors"]?.arrayValue?.first)
            #expect(error["line"] == 3 && error["message"]?.stringValue?.contains("longer than 16 MiB") == true, "\(error)")
        }
    }

    @Test func paramsOutsideTheAllowListAreRefusedNamingTheKey() async throws {
        try await ServerHarness.with(workers: false) { server in
            for (params, key) in [(#"{"stream":true}"#, "params.stream"), (#"{"n":3}"#, "params.n"), (#"{"store":true}"#, "params.store")] {
                let query = "preset=text-classify&params=" + params.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                let reply = try await server.submit("text\nhi\n", query: query)
                #expect(reply.status == 400 && reply.text.contains(key), "\(params): \(reply.text)")
            }
            let allowed =
                "preset=text-classify&params=" + #"{"temperature":0,"n":1,"stream":false}"#.addingPercentEncoding(
                    withAllowedCharacters: .alphanumerics)!
            #expect(try await server.submit("text\nhi\n", query: allowed).status == 202)
        }
    }

    @Test func exportsNeutraliseFormulasUnlessAskedForRawCells() async throws {
        try await ServerHarness.with { server in
            let reply = try await server.submit("text\n=1+2\n@SUM(A1)\nplain\n", query: "template=%7B%7Btext%7D%7D")
            let id = try #require(reply.json["id"]?.stringValue, "\(reply.text)")
            _ = try await server.waitFor(id) { ServerHarness.isFinal($0) }
            let csv = try await server.get("/v1/jobs/\(id)/results?format=csv").text
            #expect(csv.contains("\r\n'=1+2,") && csv.contains("\r\n'@SUM(A1),") && csv.contains("\r\nplain,"), "\(csv)")
            let raw = try await server.get("/v1/jobs/\(id)/results?format=csv&raw=true").text
            #expect(raw.contains("\r\n=1+2,") && !raw.contains("'="), "\(raw)")
            #expect(try await server.get("/v1/jobs/\(id)/results?format=csv&raw=yes").status == 400)
            let workbook = try await server.get("/v1/jobs/\(id)/results?format=xlsx")
            let file = server.directory.path("results.xlsx")
            FileManager.default.createFile(atPath: file, contents: Data(workbook.body))
            let sheet = try XLSXSheetReader(path: file, sheet: nil)
            _ = try sheet.nextRow()
            #expect(try sheet.nextRow()?.cells.first == "'=1+2")
        }
    }

    @Test func downloadsAreAttachmentsAndNeverSniffed() async throws {
        try await ServerHarness.with(workers: false) { server in
            let file = try #require(try await server.uploadBatchFile(lines: 2).json["id"]?.stringValue)
            let content = try await server.get("/v1/files/\(file)/content")
            #expect(content.status == 200)
            #expect(content.headers["Content-Disposition"].first == #"attachment; filename="in.jsonl""#)
            #expect(content.headers["X-Content-Type-Options"].first == "nosniff")
            #expect(Download.safeFilename("../<script>é.html") == "..__script__.html")
        }
    }

    @Test func everyIPv6FormOfAnInternalAddressIsPrivate() {
        for address in [
            "64:ff9b::a9fe:a9fe", "64:ff9b::7f00:1", "64:ff9b:1::1", "::ffff:169.254.169.254", "::ffff:0:a00:1", "::127.0.0.1",
            "2002:a9fe:a9fe::1", "2001::1", "fec0::1", "fe80::1", "fd00::1", "::", "::1", "100::1", "192.0.2.1", "198.51.100.7",
            "203.0.113.9", "169.254.169.254", "100.64.0.1", "not an address",
        ] {
            #expect(WebhookTarget.isPrivate(address), "\(address)")
        }
        for address in ["8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808", "2002:808:808::1", "::ffff:8.8.8.8"] {
            #expect(!WebhookTarget.isPrivate(address), "\(address)")
        }
    }

    @Test func aWebhookTryConnectsToTheAddressCheckedAndReportsAClass() async throws {
        try await ServerHarness.with(auth: .required, workers: false) { server in
            let dispatcher = WebhookDispatcher(
                store: server.store, outbox: server.store.webhooks, settings: WebhookSettings(timeoutSeconds: 5), owner: "test",
                logger: .init(label: "test"),
                metrics: .none)
            let port = try #require(URL(string: server.baseURL)?.port)
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            defer { _ = client.shutdown() }
            // The name does not resolve: reaching the server at all means no second lookup was made.
            let pinned = HTTPClientRequest(url: "http://sluice-test.invalid:\(port)/healthz")
            #expect(try await dispatcher.send(pinned, to: ("sluice-test.invalid", "127.0.0.1"), client: client) == 200)
            // A port nobody listens on: the try is recorded as a class, not errno text.
            let closed = HTTPClientRequest(url: "http://sluice-test.invalid:1/")
            do {
                _ = try await dispatcher.send(closed, to: ("sluice-test.invalid", "127.0.0.1"), client: client)
                Issue.record("a closed port answered")
            } catch {
                #expect(ConnectionFailure.name(of: error) == "connection refused", "\(error)")
            }
        }
    }

    @Test func aKeysIdGivesNothingOfItsSecretAway() {
        let (secret, record) = APIKeys.make(user: "a", isAdmin: false, now: Date())
        #expect(record.id.hasPrefix("key_") && !secret.contains(record.id.dropFirst(4)))
    }

    @Test func oneAddressMayHoldOnlySoManyConnections() async throws {
        try await ServerHarness.with(workers: false, adjust: { $0.maxConnectionsPerAddress = 1 }) { server in
            let request = "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"
            let port = Int(server.baseURL.split(separator: ":").last!)!
            let held = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port) {
                channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
            try await held.executeThenClose { inbound, outbound in
                // Answered, and kept alive: this address's one connection is in use.
                try await outbound.write(ByteBuffer(string: request))
                var text = ""
                var chunks = inbound.makeAsyncIterator()
                while !RawConnection.isWhole(text), let chunk = try await chunks.next() { text += String(buffer: chunk) }
                #expect(text.hasPrefix("HTTP/1.1 200"))
                // Closed unanswered: a clean end, or a reset (the request it sent was never read).
                let refused = try? await RawConnection.exchange(server, sending: [request])
                #expect(refused.map { $0.closed && $0.text.isEmpty } ?? true, "\(refused?.text ?? "")")
            }
            // Once it closes, the address may connect again.
            try await waitUntil("the held connection to be counted out") {
                (try? await RawConnection.exchange(server, sending: [request], untilClosed: false))?.status == 200
            }
        }
    }

    @Test func connectionsAreCountedPerAddressAndInAll() {
        let counts = ConnectionCounts(perAddress: 2, total: 3)
        #expect(counts.admit("a") && counts.admit("a") && !counts.admit("a"))
        #expect(counts.admit("b") && !counts.admit("c"), "the total is reached")
        counts.release("a")
        #expect(counts.admit("c") && counts.current == 3)
    }

    @Test func aKeyMayHoldOnlySoManyEventStreamsAndTheyEndWithTheKey() async throws {
        try await ServerHarness.with(auth: .required, workers: false, adjust: { $0.maxEventStreamsPerKey = 1 }) { server in
            let (secret, record) = APIKeys.make(user: "ann", isAdmin: false, now: Date())
            try await server.store.keys.createKey(record)
            let job = try #require(try await server.submit("text\nhi\n", key: secret).json["id"]?.stringValue)
            var request = HTTPClientRequest(url: server.baseURL + "/v1/jobs/\(job)/events")
            request.headers.add(name: "Authorization", value: "Bearer \(secret)")
            let stream = try await server.http.execute(request, timeout: .seconds(600))
            #expect(stream.status == .ok)
            let second = try await server.get("/v1/jobs/\(job)/events", key: secret)
            #expect(second.status == 429 && second.errorCode == "too_many_streams", "\(second.text)")
            // Revoking the key ends the open stream: its body finishes instead of running on.
            #expect(try await server.store.keys.revokeKey(id: record.id, now: Date()))
            var received = 0
            for try await chunk in stream.body { received += chunk.readableBytes }
            #expect(received > 0)
        }
    }

    @Test func metricsNeedTheirTokenWhenOneIsSet() async throws {
        try await ServerHarness.with(workers: false, adjust: { $0.metricsToken = "metrics-secret" }) { server in
            let open = try await server.get("/metrics")
            #expect(open.status == 401 && open.errorCode == "invalid_metrics_token")
            #expect(try await server.get("/metrics", key: "wrong").status == 401)
            let scraped = try await server.get("/metrics", key: "metrics-secret")
            #expect(scraped.status == 200 && scraped.text.contains("sluice_queue_depth"))
        }
    }

    @Test func aUserPastTheirStorageQuotaIsRefusedAndOthersAreNot() async throws {
        try await ServerHarness.with(workers: false, adjust: { $0.maxStoredBytesPerUser = 1_000 }) { server in
            let first = try await server.submit("text\n" + String(repeating: "a", count: 600) + "\n")
            #expect(first.status == 202)
            let second = try await server.submit("text\n" + String(repeating: "b", count: 600) + "\n")
            #expect(second.status == 413 && second.errorCode == "storage_quota_exceeded", "\(second.text)")
            #expect(try await server.store.storedBytes(owner: "local") > 600)
            // A preview keeps nothing, so a full quota does not stop it.
            var browser = Browser(server)
            _ = try await browser.get("/jobs/new")
            let preview = try await browser.postForm(
                "/jobs/preview?fragment=1", fields: [("mode", "preset"), ("preset", "text-classify")],
                files: [("in.csv", "text\n" + String(repeating: "c", count: 600) + "\n")])
            #expect(preview.status == 200, "\(preview.text)")
            // Deleting the job makes room again.
            let id = try #require(first.json["id"]?.stringValue)
            _ = try await server.waitFor(id) { $0["status"] == "queued" }
            _ = try await server.post("/v1/jobs/\(id)/cancel")
            #expect(try await server.call(.DELETE, "/v1/jobs/\(id)").status == 200)
            #expect(try await server.submit("text\nsmall\n").status == 202)
        }
    }
}
