import Foundation
import SluiceCore
import SluiceFakeProvider
import SluiceTestSupport
import Testing

/// `sluice run` against a configured OpenAI-compatible provider (the fake, over loopback).
@Suite struct ProviderRunTests {
    @Test func runsThroughAConfiguredProviderWithoutLeakingTheKey() async throws {
        let fake = try await FakeProviderServer()
        fake.update { $0.requiredKey = "sk-cli-secret-1234" }
        let directory = TemporaryDirectory()
        let config = directory.write(
            "sluice.yaml",
            """
            providers:
              remote:
                kind: openai
                base_url: \(fake.baseURL)/v1
                api_key_env: REMOTE_KEY
                default_model: fake-model
                limits: {rpm: 6000}
            """)
        let input = directory.write("in.csv", "id,text\n1,great\n2,awful\n3,fine\n")
        let run = try await SluiceProcess.run(
            ["run", input, "--preset", "text-classify", "--config", config, "-o", "out.jsonl"], in: directory.url,
            environment: ["REMOTE_KEY": "sk-cli-secret-1234"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("provider remote, model fake-model"))
        #expect(!run.stderr.contains("offline"))
        let results = try String(contentsOfFile: directory.path("out.jsonl"), encoding: .utf8)
        #expect(results.split(separator: "\n").count == 3)
        #expect(results.contains("\"model\":\"fake-model\""))
        for text in [run.stdout, run.stderr, results] { #expect(!text.contains("sk-cli-secret-1234")) }
        #expect(fake.counters.accepted == 3)

        // A wrong key pauses the job: the run stops, says why, and never shows the key.
        let wrong = try await SluiceProcess.run(
            ["run", input, "--preset", "text-classify", "--config", config, "--database", "wrong.sqlite"], in: directory.url,
            environment: ["REMOTE_KEY": "sk-wrong-secret-9876"])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("paused: the provider refused the credentials: HTTP 401"), "\(wrong.stderr)")
        #expect(!wrong.stderr.contains("sk-wrong-secret-9876"))
        try await fake.stop()
    }

    /// `--estimate` reads the whole file, calls a sample of three, stores nothing, and prices
    /// the job at each tier.
    @Test func anEstimateCallsASampleAndStoresNothing() async throws {
        let fake = try await FakeProviderServer()
        let directory = TemporaryDirectory()
        let config = directory.write(
            "sluice.yaml",
            """
            providers:
              remote: {kind: openai, base_url: "\(fake.baseURL)/v1", api_key_env: REMOTE_KEY, limits: {rpm: 600}}
            prices:
              fake-model: {input_per_million: 1, output_per_million: 4}
            """)
        let input = directory.write("in.csv", "id,text\n" + (0..<40).map { "\($0),row \($0) was fine\n" }.joined())
        let spec = directory.write("spec.json", #"{"preset": "text-classify", "provider": "remote", "model": "fake-model"}"#)
        let run = try await SluiceProcess.run(
            ["run", input, "--spec", spec, "--config", config, "--estimate"], in: directory.url, environment: ["REMOTE_KEY": "k"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("estimate: 40 rows in 40 calls"), "\(run.stdout)")
        #expect(run.stdout.contains("cost: standard $") && run.stdout.contains("flex $") && run.stdout.contains("batch $"))
        #expect(run.stdout.contains("time: about 4 s live"), "40 calls at 10 a second")
        #expect(run.stdout.contains("sample: 3 call(s)"))
        #expect(fake.counters.received == 3, "the sample only")
        #expect(!FileManager.default.fileExists(atPath: directory.path("sluice.sqlite")), "nothing stored")
        try await fake.stop()
    }

    @Test func aProviderWithoutItsKeyIsAUsageError() async throws {
        let directory = TemporaryDirectory()
        let config = directory.write("sluice.yaml", "providers:\n  remote: {kind: openai, api_key_env: REMOTE_KEY}\n")
        let input = directory.write("in.csv", "text\nhi\n")
        let spec = directory.write("spec.json", #"{"preset": "text-classify", "provider": "remote"}"#)
        let run = try await SluiceProcess.run(["run", input, "--spec", spec, "--config", config], in: directory.url)
        #expect(run.status == 64)
        #expect(run.stderr.contains("provider 'remote' has no API key: set REMOTE_KEY"))
        // Named by nobody, a keyless provider is passed over for the offline one, which says so.
        let fallback = try await SluiceProcess.run(["run", input, "--preset", "text-classify", "--config", config], in: directory.url)
        #expect(fallback.status == 0)
        #expect(fallback.stderr.contains("using the built-in offline provider"))
    }

    @Test func withNoKeyTheOfflineProviderIsUsedAndSaid() async throws {
        let directory = TemporaryDirectory()
        let input = directory.write("in.csv", "text\nhi\n")
        let run = try await SluiceProcess.run(["run", input, "--preset", "text-classify"], in: directory.url)
        #expect(run.status == 0)
        #expect(run.stderr.contains("using the built-in offline provider"))
    }
}
