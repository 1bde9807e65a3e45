import Foundation
import SluiceCore
import SluiceFakeProvider
import SluiceTestSupport
import Testing

/// `sluice submit|status|watch|results|cancel|pause|resume|retry|jobs` as child processes
/// against a real `sluice serve` child process, with and without auth.
@Suite(.loadsTheMachine) struct ClientCommandTests {
    func sluice(_ arguments: [String], in directory: TemporaryDirectory, environment: [String: String] = [:]) async throws
        -> SluiceProcess.Output
    {
        try await SluiceProcess.run(arguments, in: directory.url, environment: environment)
    }

    /// The one JSON job object a `--json` command printed.
    func job(_ output: SluiceProcess.Output) throws -> JSONValue {
        let line = try #require(output.stdout.split(separator: "\n").last, "stdout: \(output.stdout) stderr: \(output.stderr)")
        return try JSONParser.parse(String(line))
    }

    /// Runs `sluice status` until the job's upload has been read (a job is paused only from
    /// `queued` or `running`): the server is another process, whose store sends this one no signal.
    func waitUntilRead(_ id: String, _ arguments: [String], in directory: TemporaryDirectory, environment: [String: String])
        async throws
    {
        try await waitUntil("job \(id) to be read") {
            try await job(sluice(["status", id, "--json"] + arguments, in: directory, environment: environment))["status"] != "validating"
        }
    }

    @Test func submitWatchResultsStatusAndJobsAgainstAServer() async throws {
        let directory = TemporaryDirectory()
        let served = try await ServeProcessTests.serve([], in: directory)
        defer { served.process.signal(SIGTERM) }
        let server = ["--server", served.baseURL]
        let input = directory.write("reviews.csv", reviewsCSV(30))

        let submitted = try await sluice(["submit", input, "--preset", "text-classify", "--json"] + server, in: directory)
        #expect(submitted.status == 0, "\(submitted.stderr)")
        #expect(submitted.stdout.split(separator: "\n").count == 1)
        let id = try #require(try job(submitted)["id"]?.stringValue)

        let watched = try await sluice(["watch", id] + server, in: directory)
        #expect(watched.status == 0, "\(watched.stderr)")
        #expect(watched.stderr.contains("100% 30/30"))
        #expect(watched.stdout.contains("\(id)  completed"))

        let status = try await sluice(["status", id, "--json"] + server, in: directory)
        #expect(try job(status)["status"] == "completed")
        #expect(try job(status)["counts"]?["succeeded"] == 30)

        let results = try await sluice(["results", id, "-o", "out.csv"] + server, in: directory)
        #expect(results.status == 0, "\(results.stderr)")
        let csv = try String(contentsOfFile: directory.path("out.csv"), encoding: .utf8)
        #expect(csv.split(whereSeparator: \.isNewline).count == 31)
        #expect(!FileManager.default.fileExists(atPath: directory.path("out.csv.part")))
        let jsonl = try await sluice(["results", id] + server, in: directory)
        #expect(jsonl.stdout.split(separator: "\n").count == 30)

        // --wait follows to the end and exits as `sluice run` does: 0 here, 1 for a malformed file.
        let waited = try await sluice(["submit", input, "--preset", "text-classify", "--wait"] + server, in: directory)
        #expect(waited.status == 0, "\(waited.stderr)")
        let broken = directory.write("broken.csv", "id,text\n1,fine\n2,\"never closed\n")
        let failed = try await sluice(["submit", broken, "--preset", "text-classify", "--wait", "--json"] + server, in: directory)
        #expect(failed.status == 1)
        #expect(try job(failed)["errors"]?.arrayValue?.first?["line"] == 3)

        let jobs = try await sluice(["jobs", "--json"] + server, in: directory)
        let listed = jobs.stdout.split(separator: "\n").compactMap { try? JSONParser.parse(String($0))["id"]?.stringValue }
        #expect(listed.count == 3)
        #expect(listed.last == id, "newest first")
        #expect(
            try await sluice(["jobs", "--status", "failed", "--json"] + server, in: directory).stdout.split(separator: "\n").count == 1)

        // The server's own words on a refusal, and exit 1.
        let missing = try await sluice(["status", "job_nope"] + server, in: directory)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("job job_nope not found (HTTP 404)"))
        let unreachable = try await sluice(["status", id, "--server", "http://127.0.0.1:1"], in: directory)
        #expect(unreachable.status == 1)
        #expect(unreachable.stderr.contains("cannot reach the server"))
        #expect(try await sluice(["status", id, "--server", "ftp://x"], in: directory).status == 64)

        // Bad command lines are usage errors, said before anything is sent.
        let noFile = try await sluice(["submit", "missing.csv", "--preset", "text-classify"] + server, in: directory)
        #expect(noFile.status == 64)
        #expect(noFile.stderr.contains("no such file: missing.csv"))
        let spec = directory.write("spec.json", "{\"preset\": \"text-classify\",\n \"model\": }")
        let badSpec = try await sluice(["submit", input, "--spec", spec] + server, in: directory)
        #expect(badSpec.status == 64)
        #expect(badSpec.stderr.contains("spec.json: line 2, column"), "\(badSpec.stderr)")
        let both = try await sluice(["submit", input, "--spec", spec, "--preset", "text-classify"] + server, in: directory)
        #expect(both.stderr.contains("not both"))
        #expect(try await sluice(["results", id, "-o", "out.txt"] + server, in: directory).status == 64)
        #expect(try await sluice(["jobs", "--status", "finished"] + server, in: directory).status == 64)
        #expect(try await sluice(["jobs", "--limit", "0"] + server, in: directory).status == 64)
        // A spec the server refuses comes back in its words.
        let unknown = try await sluice(["submit", input, "--preset", "no-such-preset"] + server, in: directory)
        #expect(unknown.status == 1)
        #expect(unknown.stderr.contains("no-such-preset"), "\(unknown.stderr)")
    }

    @Test func controlVerbsNeedAKeyAndFollowTheJobsStatus() async throws {
        let fake = try await FakeProviderServer()
        fake.update { $0.latency = 0.2...0.2 }
        let directory = TemporaryDirectory()
        let config = directory.write(
            "sluice.yaml",
            """
            providers:
              remote:
                kind: openai
                base_url: \(fake.baseURL)/v1
                default_model: fake-model
                limits: {rpm: 60000}
            """)
        let created = try await sluice(["keys", "create", "--user", "alice", "--database", directory.path("db.sqlite")], in: directory)
        let key = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(key.hasPrefix("sk-sluice-"), "\(created.stderr)")
        let served = try await ServeProcessTests.serve(["--auth", "required", "--config", config, "--concurrency", "1"], in: directory)
        defer { served.process.signal(SIGTERM) }
        let server = ["--server", served.baseURL]
        let withKey = ["SLUICE_API_KEY": key]
        let input = directory.write("reviews.csv", reviewsCSV(40))

        let refused = try await sluice(["submit", input, "--preset", "text-classify"] + server, in: directory)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("an API key is required"))
        #expect(try await sluice(["jobs", "--key", "sk-sluice-wrong"] + server, in: directory).stderr.contains("the API key is not valid"))

        let submitted = try await sluice(
            ["submit", input, "--preset", "text-classify", "--json"] + server, in: directory, environment: withKey)
        let id = try #require(try job(submitted)["id"]?.stringValue, "\(submitted.stderr)")
        try await waitUntilRead(id, server, in: directory, environment: withKey)
        let paused = try await sluice(["pause", id, "--json"] + server, in: directory, environment: withKey)
        #expect(paused.status == 0, "\(paused.stderr)")
        #expect(try job(paused)["status"] == "paused")
        let pausedAgain = try await sluice(["resume", id, "--json", "--key", key] + server, in: directory)
        #expect(pausedAgain.status == 0, "\(pausedAgain.stderr)")
        #expect(try ["queued", "running"].contains(job(pausedAgain)["status"]?.stringValue ?? ""))
        let cancelled = try await sluice(["cancel", id, "--json"] + server, in: directory, environment: withKey)
        #expect(cancelled.status == 0, "\(cancelled.stderr)")
        let notPaused = try await sluice(["resume", id] + server, in: directory, environment: withKey)
        #expect(notPaused.status == 1)
        #expect(notPaused.stderr.contains("cannot resume job \(id)"))
        let watched = try await sluice(["watch", id] + server, in: directory, environment: withKey)
        #expect(watched.status == 2, "cancelled, as `sluice run` says it: \(watched.stderr)")

        // Every call refused: the job fails; with the provider mended, retry runs it again to the end.
        fake.update {
            $0.latency = 0...0
            $0.fixedError = (status: 400, message: "refused for the test")
        }
        // Rows the first job did not have: the cache cannot answer them.
        let small = directory.write("small.csv", "id,text\n1,one of a kind\n2,two of a kind\n3,three of a kind\n")
        let failed = try await sluice(
            ["submit", small, "--preset", "text-classify", "--wait", "--json"] + server, in: directory, environment: withKey)
        #expect(failed.status == 1, "\(failed.stderr)")
        let failedID = try #require(try job(failed)["id"]?.stringValue)
        #expect(try job(failed)["counts"]?["failed"] == 3)
        fake.update { $0.fixedError = nil }
        let retried = try await sluice(["retry", failedID] + server, in: directory, environment: withKey)
        #expect(retried.status == 0, "\(retried.stderr)")
        let rewatched = try await sluice(["watch", failedID, "--json"] + server, in: directory, environment: withKey)
        #expect(rewatched.status == 0, "\(rewatched.stderr)")
        #expect(try job(rewatched)["counts"]?["succeeded"] == 3)
        try await fake.stop()
    }
}
