import Foundation
import Logging
import SluiceCore
import SluicePresets
import SluiceProviders
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceEngine

@Suite struct IngestorTests {
    func ingest(_ files: [(String, String)], spec: JSONValue) async throws -> (Job, [Item]) {
        let harness = try await EngineHarness()
        let directory = TemporaryDirectory()
        let sources = files.map { name, contents in
            JobSource(path: directory.write(name, contents), displayName: name, format: InputFormat(fileName: name)!)
        }
        let job = try await harness.store.createJob(NewJob(owner: "a", name: "t", spec: Fixtures.spec(spec), sources: sources), now: Date())
        let ended = try await JobIngestor(store: harness.store, owner: "ingestor", batchSize: 2).takeAndIngest(jobID: job.id)
        return (ended, try await harness.items(job.id))
    }

    /// A job created by another process (an API process that is only a front door) wakes no
    /// reader here: it is found by polling, and the readers take turns, so one looks every
    /// quarter of the poll interval instead of all four at once every interval.
    @Test func aJobAnotherProcessCreatedIsReadAtTheNextReadersTurn() async throws {
        let harness = try await EngineHarness()
        let clock = ManualClock()
        let start = clock.now()
        let ingest = IngestService(
            store: harness.store, owner: "reader", clock: clock, pollInterval: 2, readers: 4, logger: Logger(label: "test"))
        #expect(ingest.nextPoll(reader: 0, since: start) == start.addingTimeInterval(2))
        #expect(ingest.nextPoll(reader: 3, since: start) == start.addingTimeInterval(1.5))
        let running = Task { try await ingest.run() }
        defer { running.cancel() }
        try await waitUntil("every reader to find nothing and sleep") { clock.sleeperCount == 4 }

        let directory = TemporaryDirectory()
        let source = JobSource(path: directory.write("a.csv", "id,text\n1,hello\n"), displayName: "a.csv", format: .csv)
        let job = try await harness.store.createJob(
            NewJob(owner: "a", name: "t", spec: Fixtures.spec(["template": "{{text}}"]), sources: [source]), now: start)
        clock.advance(by: 0.5)
        // Nothing but the turn of the reader whose deadline that was can read it now.
        let read = try await waitForJob(harness.store, job.id) { $0.status != .validating }
        #expect(read.status == .queued)
    }

    @Test func aCleanFileBecomesQueuedItems() async throws {
        let (job, items) = try await ingest([("a.csv", "id,text\n1,hello\n2,world\n3,again\n")], spec: ["template": "{{text}}"])
        #expect(job.status == .queued)
        #expect(job.counts == JobCounts(total: 3, pending: 3))
        #expect(items.map { $0.input["text"] } == ["hello", "world", "again"])
    }

    @Test func aMalformedFileFailsWithLineNumbersAndStoresNothing() async throws {
        let (job, items) = try await ingest([("a.csv", "id,text\n1,ok\n2\n3,ok\n4,\"open\n")], spec: ["template": "{{text}}"])
        #expect(job.status == .failed)
        #expect(
            job.errors == [
                JobErrorEntry(line: 3, message: "expected 2 fields as in the header, found 1"),
                JobErrorEntry(line: 5, column: 3, message: "unclosed quote: the quoted field never ends"),
            ])
        #expect(items.isEmpty)
        #expect(job.counts == JobCounts())
    }

    @Test func batchLinesAreCheckedAsOpenAIChecksThem() async throws {
        func line(_ id: String, url: String = "/v1/chat/completions") -> String {
            #"{"custom_id": "\#(id)", "method": "POST", "url": "\#(url)", "body": {"model": "m", "messages": [{"role": "user", "content": "hi"}]}}"#
        }
        let clean = [line("a"), line("b")].joined(separator: "\n") + "\n"
        let harness = try await EngineHarness()
        let directory = TemporaryDirectory()
        let spec: JSONValue = ["input": ["format": "openai_batch"], "provider": "auto"]
        func run(_ contents: String) async throws -> Job {
            let source = JobSource(path: directory.write("\(UUID()).jsonl", contents), displayName: "in.jsonl", format: .openAIBatch)
            let job = try await harness.store.createJob(
                NewJob(owner: "a", name: "t", spec: Fixtures.spec(spec), sources: [source]), now: Date())
            return try await JobIngestor(store: harness.store, owner: "ingestor").takeAndIngest(jobID: job.id)
        }
        let good = try await run(clean)
        #expect(good.status == .queued)
        #expect(good.counts.total == 2)
        let bad = try await run([line("a"), "{oops", line("b", url: "/v1/completions"), line("a")].joined(separator: "\n") + "\n")
        #expect(bad.status == .failed)
        #expect(bad.errors.map { "\($0.line ?? 0) \($0.code ?? "")" } == ["2 invalid_json_line", "3 invalid_url", "4 duplicate_custom_id"])
    }

    @Test func aTemplateFieldMissingFromTheHeaderFailsAtLineOne() async throws {
        let (job, _) = try await ingest([("a.csv", "id,body\n1,x\n")], spec: ["template": "{{text}}"])
        #expect(job.errors == [JobErrorEntry(line: 1, message: "the template needs the field 'text', which the header does not have")])
    }

    @Test func errorsNameTheFileWhenAJobReadsSeveral() async throws {
        let (job, _) = try await ingest(
            [("good.jsonl", "{\"text\": \"a\"}\n"), ("bad.jsonl", "{\"text\": \"b\"}\n{\"other\": 1}\n")], spec: ["template": "{{text}}"])
        #expect(
            job.errors == [
                JobErrorEntry(file: "bad.jsonl", line: 2, message: "the template needs the field 'text', which this record does not have")
            ])
    }

    @Test func anInputWithNoRecordsFails() async throws {
        let (job, _) = try await ingest([("a.csv", "id,text\n")], spec: ["template": "{{text}}"])
        #expect(job.status == .failed)
        #expect(job.errors == [JobErrorEntry(message: "the input has no records")])
    }

    @Test func theErrorListIsBounded() async throws {
        let rows = (0..<200).map { _ in "only-one-field" }.joined(separator: "\n")
        let (job, _) = try await ingest([("a.csv", "id,text\n" + rows)], spec: ["template": "{{text}}"])
        #expect(job.errors.count == Job.maximumErrors)
    }
}

/// Every shipped preset is a valid spec, and the offline provider completes its example.
@Suite struct PresetTests {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Examples").standardized

    @Test(arguments: [
        ("conversation-score", ["support-chats.json"]), ("chat-answer", ["chats.csv"]), ("chat-answer", ["chats.xlsx"]),
        ("text-classify", ["reviews.csv"]), ("document-summary", ["handbook.txt"]), ("map-rows", ["big-list.csv"]),
        ("course-outline", ["water-treatment.pdf", "lab-safety.pdf"]),
    ])
    func presetRunsItsExampleOffline(preset: String, examples: [String]) async throws {
        let catalog = try PresetCatalog.shipped()
        let spec = try JobSpec.parse(["preset": .string(preset)], preset: catalog.specJSON(named:))
        let harness = try await EngineHarness()
        let sources = examples.map { example in
            JobSource(
                path: Self.examples.appendingPathComponent(example).path, displayName: example,
                format: spec.input.format ?? InputFormat(fileName: example)!)
        }
        let job = try await harness.store.createJob(NewJob(owner: "a", name: preset, spec: spec, sources: sources), now: Date())
        let queued = try await JobIngestor(store: harness.store, owner: "ingestor").takeAndIngest(jobID: job.id)
        #expect(queued.status == .queued, "\(queued.errors)")
        let done = try await harness.withRunning(harness.worker([BuiltinProvider()])) {
            try await waitForJob(harness.store, job.id) { $0.status.isFinal }
        }
        #expect(done.status == .completed, "\(done.errors)")
        #expect(done.counts.succeeded == done.counts.total && done.counts.total >= queued.counts.total)
        if spec.reduce != nil { #expect(try await harness.store.result(jobID: job.id) != nil) }
    }

    @Test func everyShippedPresetIsListed() throws {
        #expect(
            try PresetCatalog.shipped().presets.map(\.name) == [
                "chat-answer", "conversation-score", "course-outline", "document-summary", "map-rows", "text-classify",
            ])
    }
}
