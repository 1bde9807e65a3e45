import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `sluice serve` and `sluice keys` as real child processes.
@Suite(.loadsTheMachine) struct ServeProcessTests {
    /// A running `sluice serve --port 0` and the port it printed.
    struct Served {
        let process: ChildProcess
        let port: Int
        var baseURL: String { "http://127.0.0.1:\(port)" }

        /// Peak resident memory so far, in bytes (`VmHWM`), read from /proc.
        var peakResidentBytes: Int {
            get throws {
                let status = try String(contentsOfFile: "/proc/\(process.pid)/status", encoding: .utf8)
                let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") })
                return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])! * 1024
            }
        }
    }

    static func serve(
        _ arguments: [String], in directory: TemporaryDirectory, database: String? = nil, environment: [String: String] = [:],
        errors: ChildProcess.Destination = .discard
    ) async throws -> Served {
        let process = try SluiceProcess.start(
            ["serve", "--port", "0", "--database", database ?? directory.path("db.sqlite"), "--log-level", "error"] + arguments,
            in: directory.url, environment: environment, output: .pipe, errors: errors)
        let seen = try await process.readOutput { $0.contains("\n") }
        let port = try #require(seen.split(separator: ":").last.flatMap { Int($0.prefix { $0.isNumber }) }, "\(seen)")
        return Served(process: process, port: port)
    }

    @Test func a200MBUploadIsStreamedToDiskAndSIGTERMStopsCleanly() async throws {
        let directory = TemporaryDirectory()
        let served = try await Self.serve([], in: directory)
        defer { served.process.signal(SIGTERM) }
        let before = try served.peakResidentBytes

        // 200 MB of CSV, sent from a file by libcurl (URLSession), which asks `Expect: 100-continue`.
        let row = Array("12345,a line of text that somebody wrote about something\n".utf8)
        let chunk = Data(Array(Array(repeating: row, count: (1 << 20) / row.count).joined()))
        let path = directory.path("upload.csv")
        #expect(FileManager.default.createFile(atPath: path, contents: Data("id,text\n".utf8)))
        let file = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try file.seekToEnd()
        for _ in 0..<200 { try file.write(contentsOf: chunk) }
        try file.close()
        let size = try #require((try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue)
        var request = URLRequest(url: URL(string: served.baseURL + "/v1/jobs?preset=text-classify")!)
        request.httpMethod = "POST"
        request.setValue("text/csv", forHTTPHeaderField: "Content-Type")
        request.timeoutInterval = 300
        let (bytes, response) = try await withCheckedThrowingContinuation {
            (continuation: CheckedContinuation<(Data, URLResponse), any Error>) in
            URLSession.shared.uploadTask(with: request, fromFile: URL(fileURLWithPath: path)) { data, response, error in
                if let data, let response {
                    continuation.resume(returning: (data, response))
                } else {
                    continuation.resume(throwing: error!)
                }
            }.resume()
        }
        #expect((response as? HTTPURLResponse)?.statusCode == 202)
        let reply = try JSONParser.parse(Array(bytes))
        let id = try #require(reply["id"]?.stringValue)
        let growth = try served.peakResidentBytes - before
        #expect(growth < 64 << 20, "the server grew by \(growth >> 20) MiB while taking a 200 MiB upload")
        let stored = try FileManager.default.attributesOfItem(atPath: directory.path("db.sqlite.uploads/\(id)/0-upload.csv"))
        #expect((stored[.size] as? NSNumber)?.intValue == size)

        served.process.signal(SIGTERM)
        #expect(try await served.process.exited() == .exited(0))
    }

    /// The scale-out shape: an API process that only keeps uploads and creates jobs, and
    /// workers that do everything else. The API process is killed right after its `202`; no
    /// API process runs while the job is read and run, and one started later serves it. On the
    /// driver under test, with the uploads in the test bucket when the script started one.
    @Test func workersReadAndRunAJobWhoseAPIProcessWasKilledAfterAnsweringAndTheNextOneServesIt() async throws {
        let fixture = try await StoreDriver.current.makeStore()
        let directory = fixture.directory
        var environment: [String: String] = [:]
        var uploads = directory.path("uploads")
        if TestBucket.isAvailable {
            environment = ProcessInfo.processInfo.environment.filter { $0.key.hasPrefix("AWS_") }
            environment["AWS_ENDPOINT_URL"] = ProcessInfo.processInfo.environment["SLUICE_TEST_S3"]
            let bucket = ProcessInfo.processInfo.environment["SLUICE_TEST_S3_BUCKET"] ?? "sluice-test"
            uploads = "s3://\(bucket)/run-\(UUID().uuidString)"
        }
        let arguments = ["--no-workers", "--uploads", uploads]
        let first = try await Self.serve(arguments, in: directory, database: fixture.databaseURL, environment: environment)
        defer { first.process.signal(SIGKILL) }
        let rows = (0..<40).map { "\($0),row number \($0) is \($0 % 2 == 0 ? "good" : "bad")" }
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { _ = http.shutdown() }
        var request = HTTPClientRequest(url: first.baseURL + "/v1/jobs?preset=text-classify")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "text/csv")
        request.body = .bytes(ByteBuffer(string: "id,text\n" + rows.joined(separator: "\n") + "\n"))
        let created = try await http.execute(request, timeout: .seconds(60))
        #expect(created.status == .accepted)
        let id = try #require(JSONParser.parse(Array(try await created.body.collect(upTo: 1 << 20).readableBytesView))["id"]?.stringValue)
        first.process.signal(SIGKILL)
        try await first.process.exited()
        // The front door reads nothing: the job waits for a worker.
        #expect(try await fixture.store.job(id: id)?.status == .validating)

        let workers = try (0..<2).map { _ in
            try SluiceProcess.start(
                ["worker", "--database", fixture.databaseURL, "--uploads", uploads, "--log-level", "error"], in: directory.url,
                environment: environment)
        }
        defer { for worker in workers { worker.signal(SIGKILL) } }
        try await waitUntil("the workers to finish job \(id)") { try await fixture.store.job(id: id)?.status.isFinal == true }
        let finished = try #require(try await fixture.store.job(id: id))
        #expect(finished.status == .completed)
        #expect(finished.counts.succeeded == rows.count)
        for worker in workers {
            worker.signal(SIGTERM)
            #expect(try await worker.exited() == .exited(0))
        }

        let second = try await Self.serve(arguments, in: directory, database: fixture.databaseURL, environment: environment)
        defer { second.process.signal(SIGKILL) }
        let results = try await http.execute(
            HTTPClientRequest(url: second.baseURL + "/v1/jobs/\(id)/results?format=jsonl"), timeout: .seconds(60))
        #expect(results.status == .ok)
        let lines = String(buffer: try await results.body.collect(upTo: 1 << 20)).split(separator: "\n")
        #expect(lines.count == rows.count)
        let succeeded = lines.compactMap { try? JSONParser.parse(Array($0.utf8)) }.filter { $0["status"] == "succeeded" }
        #expect(Set(succeeded.compactMap { $0["index"]?.doubleValue }) == Set((0..<rows.count).map(Double.init)))
        second.process.signal(SIGTERM)
        try await second.process.exited()
    }

    /// A worker reads uploads now, so it takes `--uploads` too, refused as `serve` refuses it:
    /// a usage error naming what is missing, before the database is opened.
    @Test func aWorkerRefusesABucketItCannotReachBeforeOpeningTheDatabase() async throws {
        let directory = TemporaryDirectory()
        let refused = try await SluiceProcess.run(
            ["worker", "--database", directory.path("db.sqlite"), "--uploads", "s3://bucket/prefix"], in: directory.url)
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("--uploads: s3:// uploads need AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: directory.path("db.sqlite")))
    }

    @Test func aDatabaseFileRemovedUnderTheServerStopsItWithTheReason() async throws {
        let directory = TemporaryDirectory()
        let log = directory.path("stderr.log")
        let served = try await Self.serve([], in: directory, errors: .file(log))
        defer { served.process.signal(SIGTERM) }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: directory.path("db.sqlite") + suffix) }
        // SQLite would go on writing into the removed file; the reaper's round sees it is gone.
        #expect(try await served.process.exited() != .exited(0))
        let said = try String(contentsOfFile: log, encoding: .utf8)
        #expect(said.contains("the database cannot be used"), "\(said)")
        #expect(said.contains("removed or replaced"), "\(said)")
    }

    @Test func tlsServesHTTPSWithTheGivenCertificate() async throws {
        let directory = TemporaryDirectory()
        let certificate = try await SelfSignedCertificate(in: directory)
        let served = try await Self.serve(["--tls-cert", certificate.certificate, "--tls-key", certificate.key], in: directory)
        defer { served.process.signal(SIGTERM) }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(certificate.certificate))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        do {
            let base = "https://127.0.0.1:\(served.port)"
            let health = try await client.execute(HTTPClientRequest(url: base + "/healthz"), timeout: .seconds(30))
            #expect(health.status == .ok)
            var upload = HTTPClientRequest(url: base + "/v1/jobs?preset=text-classify")
            upload.method = .POST
            upload.headers.add(name: "Content-Type", value: "text/csv")
            upload.body = .bytes(ByteBuffer(string: reviewsCSV(5)))
            let created = try await client.execute(upload, timeout: .seconds(30))
            #expect(created.status == .accepted)
            let id = try #require(try JSONParser.parse(try await created.body.collect(upTo: 1 << 20).readableBytesView)["id"]?.stringValue)
            var status: JSONValue = .null
            try await waitUntil("the job to finish over HTTPS") {
                let job = try await client.execute(HTTPClientRequest(url: base + "/v1/jobs/\(id)"), timeout: .seconds(30))
                status = try JSONParser.parse(try await job.body.collect(upTo: 1 << 20).readableBytesView)["status"] ?? .null
                return status == "completed" || status == "failed"
            }
            #expect(status == "completed")
            // Plain HTTP to the TLS port gets no answer.
            await #expect(throws: (any Error).self) {
                _ = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(served.port)/healthz"), timeout: .seconds(10))
            }
            try await client.shutdown()
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    @Test func unusableTLSFilesAreRefusedBeforeServing() async throws {
        let directory = TemporaryDirectory()
        let database = directory.path("db.sqlite")
        let missing = try await SluiceProcess.run(
            ["serve", "--tls-cert", directory.path("none.pem"), "--tls-key", directory.path("none-key.pem"), "--database", database],
            in: directory.url)
        #expect(missing.status == 64)
        #expect(missing.stderr.contains("cannot read the TLS certificate"), "\(missing.stderr)")
        let certificate = try await SelfSignedCertificate(in: directory)
        let swapped = try await SluiceProcess.run(
            ["serve", "--tls-cert", certificate.certificate, "--tls-key", certificate.certificate, "--database", database],
            in: directory.url)
        #expect(swapped.status == 64)
        #expect(swapped.stderr.contains("cannot read the TLS private key"), "\(swapped.stderr)")
        let alone = try await SluiceProcess.run(
            ["serve", "--tls-cert", certificate.certificate, "--database", database], in: directory.url)
        #expect(alone.status == 64)
        #expect(alone.stderr.contains("--tls-cert and --tls-key go together"), "\(alone.stderr)")
    }

    @Test func keysAreCreatedListedAndRevokedWithoutStoringSecrets() async throws {
        let directory = TemporaryDirectory()
        let database = directory.path("db.sqlite")
        let created = try await SluiceProcess.run(
            ["keys", "create", "--user", "alice", "--admin", "--database", database], in: directory.url)
        #expect(created.status == 0)
        let secret = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(secret.hasPrefix("sk-sluice-") && secret.count == 50)
        let listed = try await SluiceProcess.run(["keys", "list", "--database", database], in: directory.url)
        #expect(listed.stdout.contains("alice\tyes"))
        #expect(!listed.stdout.contains(secret))
        let contents = try Data(contentsOf: URL(fileURLWithPath: database))
        #expect(contents.range(of: Data(secret.utf8)) == nil, "the secret is not in the database")
        let id = try #require(listed.stdout.split(separator: "\n").dropFirst().first?.split(separator: "\t").first)
        #expect(try await SluiceProcess.run(["keys", "revoke", String(id), "--database", database], in: directory.url).status == 0)
        #expect(try await SluiceProcess.run(["keys", "revoke", "key_nope", "--database", database], in: directory.url).status == 1)
        #expect(try await SluiceProcess.run(["keys", "list", "--database", database], in: directory.url).stdout.contains("\t20"))
        #expect(try await SluiceProcess.run(["keys", "create", "--user", "a b", "--database", database], in: directory.url).status == 64)
        #expect(try await SluiceProcess.run(["keys", "create", "--user", "", "--database", database], in: directory.url).status == 64)
        #expect(try await SluiceProcess.run(["serve", "--auth", "maybe", "--database", database], in: directory.url).status == 64)
        #expect(try await SluiceProcess.run(["serve", "--port", "70000", "--database", database], in: directory.url).status == 64)
        #expect(try await SluiceProcess.run(["serve", "--max-upload-mb", "0", "--database", database], in: directory.url).status == 64)
        for (flag, value, reason) in [
            ("--idle-timeout", "0", "timeouts must be positive"), ("--header-timeout", "0", "timeouts must be positive"),
            ("--max-uploads-per-key", "0", "at least one upload at a time"),
        ] {
            let refused = try await SluiceProcess.run(["serve", flag, value, "--database", database], in: directory.url)
            #expect(refused.status == 64, "\(flag) \(value)")
            #expect(refused.stderr.contains(reason), "\(flag) \(value): \(refused.stderr)")
        }
        let open = try await SluiceProcess.run(["serve", "--host", "0.0.0.0", "--auth", "off", "--database", database], in: directory.url)
        #expect(open.status == 64)
        #expect(open.stderr.contains("refusing to serve 0.0.0.0 with --auth off"))
    }
}
