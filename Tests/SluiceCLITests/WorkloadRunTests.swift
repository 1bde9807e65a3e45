import Foundation
import SluiceCore
import SluiceFakeProvider
import SluiceSpreadsheet
import SluiceTestSupport
import Testing

/// `sluice run` on the plans' workloads: their files as they are, packs, budgets, the brake.
@Suite struct WorkloadRunTests {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Examples").standardized

    /// A configuration for the fake, priced so cost shows.
    static func config(_ fake: FakeProviderServer, in directory: TemporaryDirectory) -> String {
        directory.write(
            "sluice.yaml",
            """
            providers:
              remote: {kind: openai, base_url: \(fake.baseURL)/v1, api_key_env: REMOTE_KEY, default_model: fake-model}
            prices:
              fake-*: {input_per_million: 2.5, output_per_million: 10}
            """)
    }

    @Test func theExamplesRunWithTheirPresetsAndReportCallsAgainstRows() async throws {
        let directory = TemporaryDirectory()
        let chats = try await SluiceProcess.run(
            ["run", Self.examples.appendingPathComponent("chats.csv").path, "--preset", "chat-answer", "-o", "chats.jsonl"],
            in: directory.url)
        #expect(chats.status == 0, "\(chats.stderr)")
        #expect(chats.stderr.contains("completed: 15 succeeded"))
        let list = try await SluiceProcess.run(
            ["run", Self.examples.appendingPathComponent("big-list.csv").path, "--preset", "map-rows", "-o", "list.csv"], in: directory.url)
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stderr.contains("calls: 2 for 100 rows (50.0 rows per call)"), "\(list.stderr)")
        let header = try String(contentsOfFile: directory.path("list.csv"), encoding: .utf8).split(separator: "\r\n").first
        #expect(header == "sku,title,notes,price,category,label,tags,sluice_status,sluice_error,sluice_model")
    }

    @Test func fieldPointsAPresetAtOtherColumnsAndRefusesATypo() async throws {
        let directory = TemporaryDirectory()
        let input = directory.write("in.csv", "message,thread\nHi,t1\nMore,t1\n")
        let refused = try await SluiceProcess.run(["run", input, "--preset", "chat-answer"], in: directory.url)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("the template needs the field 'question', which the header does not have"), "\(refused.stderr)")
        let mapped = try await SluiceProcess.run(
            ["run", input, "--preset", "chat-answer", "--field", "question=message", "--field", "chatId=thread", "--database", "m.db"],
            in: directory.url)
        #expect(mapped.status == 0, "\(mapped.stderr)")
        #expect(mapped.stdout.split(separator: "\n").count == 2)
        let typo = try await SluiceProcess.run(["run", input, "--preset", "chat-answer", "--field", "qestion=message"], in: directory.url)
        #expect(typo.status == 64)
        #expect(typo.stderr.contains("the spec uses no field 'qestion'"), "\(typo.stderr)")
        let malformed = try await SluiceProcess.run(["run", input, "--preset", "chat-answer", "--field", "question"], in: directory.url)
        #expect(malformed.status == 64)
    }

    @Test func aTokenBudgetStopsTheRunAndTheSameCommandWithAHigherOneFinishesIt() async throws {
        let fake = try await FakeProviderServer()
        let directory = TemporaryDirectory()
        let config = Self.config(fake, in: directory)
        let input = directory.write("in.csv", "text\n" + (0..<60).map { "row \($0) is fine\n" }.joined())
        let arguments = [
            "run", input, "--preset", "text-classify", "--config", config, "--concurrency", "2", "--database", "b.db", "-o", "out.jsonl",
        ]
        let environment = ["REMOTE_KEY": "k"]
        let paused = try await SluiceProcess.run(arguments + ["--budget-tokens", "2000"], in: directory.url, environment: environment)
        #expect(paused.status == 1)
        #expect(paused.stderr.contains("paused: budget"), "\(paused.stderr)")
        let spent = fake.counters.received
        #expect(spent > 0 && spent < 60)
        let finished = try await SluiceProcess.run(arguments + ["--budget-tokens", "1000000"], in: directory.url, environment: environment)
        #expect(finished.status == 0, "\(finished.stderr)")
        #expect(finished.stderr.contains("resuming job_"))
        #expect(finished.stderr.contains("completed: 60 succeeded"))
        #expect(finished.stderr.contains("cost $"), "\(finished.stderr)")
        #expect(fake.counters.received == 60, "the resumed job paid for no row twice")
        try await fake.stop()
    }

    @Test func aPromptThatFailsEveryItemPausesTheRun() async throws {
        let fake = try await FakeProviderServer()
        fake.update { $0.fixedError = (404, "The model `fake-modle` does not exist") }
        let directory = TemporaryDirectory()
        let config = Self.config(fake, in: directory)
        let input = directory.write("in.csv", "text\n" + (0..<300).map { "row \($0)\n" }.joined())
        let run = try await SluiceProcess.run(
            ["run", input, "--preset", "text-classify", "--config", config, "--concurrency", "2"], in: directory.url,
            environment: ["REMOTE_KEY": "k"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("paused: failure brake: 20 of the last 20 items failed (last error: "), "\(run.stderr)")
        #expect(run.stderr.contains("does not exist"))
        #expect(fake.counters.received < 60, "\(fake.counters.received) calls before the brake held")
        try await fake.stop()
    }

    @Test func documentsBecomeOneCourseFile() async throws {
        let directory = TemporaryDirectory()
        let fixtures = Self.examples.deletingLastPathComponent().appendingPathComponent("Tests/Fixtures")
        let run = try await SluiceProcess.run(
            [
                "run", Self.examples.appendingPathComponent("water-treatment.pdf").path,
                Self.examples.appendingPathComponent("lab-safety.pdf").path, fixtures.appendingPathComponent("truncated.pdf").path,
                "--preset", "course-outline", "--var", "course_title=Plant basics", "-o", "course.json",
            ], in: directory.url)
        #expect(run.status == 3, "\(run.stderr)")
        #expect(run.stderr.contains("truncated.pdf cannot be read as a PDF (damaged, or not a PDF)"), "\(run.stderr)")
        let course = try JSONParser.parse(try Data(contentsOf: directory.url.appendingPathComponent("course.json")))
        #expect(course["title"] == "Plant basics")
        #expect(course["modules"]?.arrayValue?.count == 2)
    }

    @Test func partsThatDoNotFitOneCallAreCombinedInRounds() async throws {
        let directory = TemporaryDirectory()
        let text = (1...40).map { "Paragraph \($0) explains one more step of the process in a sentence or two." }.joined(separator: "\n\n")
        let input = directory.write("notes.md", text)
        let spec = directory.write(
            "spec.json",
            """
            {"preset": "course-outline", "input": {"chunk_chars": 500}, "reduce": {"max_chars": 1000,
             "template": "Combine these into one course: {{parts}}", "output_schema": {"type": "object", "required": ["title"],
             "properties": {"title": {"type": "string"}, "modules": {"type": "array", "items": {"type": "object",
             "properties": {"title": {"type": "string"}}}}}}}}
            """)
        let run = try await SluiceProcess.run(["run", input, "--spec", spec, "-o", "items.jsonl"], in: directory.url)
        #expect(run.status == 0, "\(run.stderr)")
        let items = try String(contentsOfFile: directory.path("items.jsonl"), encoding: .utf8).split(separator: "\n").map {
            try JSONParser.parse(String($0))
        }
        let rounds = items.compactMap { $0["input"]?["round"]?.intValue }
        #expect((rounds.max() ?? 0) >= 2, "the map's outputs did not fit one call, so the reduce ran in rounds: \(rounds)")
        #expect(rounds.filter { $0 == rounds.max() }.count == 1, "the last round is one call")
    }
}

/// Plan 002's spreadsheets: in and out of `sluice run`.
@Suite struct SpreadsheetRunTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures").standardized

    @Test func aWorkbookInAndAWorkbookOut() async throws {
        let directory = TemporaryDirectory()
        let run = try await SluiceProcess.run(
            ["run", Self.fixtures.appendingPathComponent("libreoffice.xlsx").path, "--preset", "text-classify", "-o", "out.xlsx"],
            in: directory.url)
        #expect(run.status == 0, "\(run.stderr)")
        let reader = try XLSXSheetReader(path: directory.path("out.xlsx"), sheet: nil)
        let header = try #require(try reader.nextRow())
        #expect(
            header.cells == [
                "id", "text", "date", "amount", "share", "note", "sentiment", "confidence", "keywords", "sluice_status", "sluice_error",
                "sluice_model",
            ])
        let first = try #require(try reader.nextRow())
        #expect(first.cells[2] == "2024-03-05" && first.cells[9] == "succeeded")
        var rows = 1
        while try reader.nextRow() != nil { rows += 1 }
        #expect(rows == 3)
    }

    @Test func aNamedSheetAndASheetWithoutAHeader() async throws {
        let directory = TemporaryDirectory()
        let workbook = Self.fixtures.appendingPathComponent("openpyxl.xlsx").path
        let orders = try await SluiceProcess.run(
            ["run", workbook, "--sheet", "Orders", "--preset", "chat-answer", "--field", "question=order", "--database", "o.db"],
            in: directory.url)
        #expect(orders.status == 0, "\(orders.stderr)")
        #expect(orders.stdout.split(separator: "\n").count == 2)
        let unmapped = try await SluiceProcess.run(["run", workbook, "--sheet", "Orders", "--preset", "chat-answer"], in: directory.url)
        #expect(unmapped.status == 1)
        #expect(
            unmapped.stderr.contains("line 1: the template needs the field 'question', which the header does not have"),
            "\(unmapped.stderr)")
        let numbers = try await SluiceProcess.run(["run", workbook, "--sheet", "Numbers", "--preset", "text-classify"], in: directory.url)
        #expect(numbers.status == 1)
        #expect(numbers.stderr.contains("line 1: the first row holds only numbers"), "\(numbers.stderr)")
    }
}
