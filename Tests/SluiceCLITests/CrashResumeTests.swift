import Foundation
import SluiceCore
import SluiceStore
import SluiceStoreSQLite
import SluiceTestSupport
import Testing

/// Kills `sluice run` mid-job with SIGKILL, inspects the database it left, and runs the same
/// command again: the job finishes, every item once, and nothing finished before is redone.
@Suite(.loadsTheMachine) struct CrashResumeTests {
    static func writeInput(rows: Int, in directory: TemporaryDirectory) -> String {
        var csv = "id,text\n"
        for index in 0..<rows { csv += "\(index),order \(index) arrived late and the support was \(index % 2 == 0 ? "great" : "slow")\n" }
        return directory.write("big.csv", csv)
    }

    /// Starts `sluice` and sends `signal` as soon as its progress report shows some items done;
    /// returns what it printed and the finished process.
    static func interrupt(_ arguments: [String], in directory: TemporaryDirectory, with signal: Int32) async throws -> (
        String, Spawn.Termination
    ) {
        let process = try SluiceProcess.start(arguments, in: directory.url, errors: .pipe)
        var seen = try await process.readErrors(until: showsProgress)
        process.signal(signal)
        seen += try await process.readErrors()
        return (seen, try await process.exited())
    }

    @Test func sigtermDrainsAndExitsZero() async throws {
        let directory = TemporaryDirectory()
        // Only the first seconds run: the signal drains the rest. Enough rows that a busy
        // machine's late signal still comes mid-run (30,000 were done first at 3,000 a second).
        let input = Self.writeInput(rows: 120_000, in: directory)
        let arguments = ["run", input, "--preset", "text-classify", "--database", "db.sqlite", "--concurrency", "4"]
        let (seen, termination) = try await Self.interrupt(arguments, in: directory, with: SIGTERM)
        #expect(termination == .exited(0))
        #expect(seen.contains("interrupted:"), "\(seen)")
        let store = try SQLJobStore.sqlite(path: directory.path("db.sqlite"))
        let jobID = try #require(Self.jobID(in: seen))
        let job = try #require(try await store.job(id: jobID))
        #expect(!job.status.isFinal)
        #expect(job.counts.running == 0, "in-flight work was finished or released")
        #expect(job.counts.succeeded + job.counts.pending == 120_000)
    }

    @Test func aKilledRunResumesWithoutRedoingFinishedItems() async throws {
        let directory = TemporaryDirectory()
        // The kill comes at the first progress line with items done (two seconds in, or later
        // when the machine is busy and the test reads late): the run must outlast it, and the
        // test build (debug) gets through about 3,000 rows a second on a quiet machine — 10,000
        // rows were done before a busy suite's kill. The second run does the rest.
        let rows = 60_000
        let input = Self.writeInput(rows: rows, in: directory)
        let arguments = ["run", input, "--preset", "text-classify", "--database", "db.sqlite", "-o", "out.jsonl", "--concurrency", "4"]
        let (seen, termination) = try await Self.interrupt(arguments, in: directory, with: SIGKILL)
        #expect(termination == .signalled(SIGKILL))

        let store = try SQLJobStore.sqlite(path: directory.path("db.sqlite"))
        let jobID = try #require(Self.jobID(in: seen))
        let interrupted = try #require(try await store.job(id: jobID))
        #expect(!interrupted.status.isFinal, "killed before the end: \(seen)")
        #expect(interrupted.counts.succeeded > 0 && interrupted.counts.succeeded < rows)
        let doneBefore = try await store.items(jobID: interrupted.id, status: .succeeded, afterIndex: -1, limit: rows)
        #expect(!FileManager.default.fileExists(atPath: directory.path("out.jsonl")))

        let second = try await SluiceProcess.run(arguments, in: directory.url)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.contains("resuming \(interrupted.id)"))

        let finished = try #require(try await store.job(id: interrupted.id))
        #expect(finished.status == .completed)
        #expect(finished.counts == JobCounts(total: rows, succeeded: rows))
        let after = try await store.items(jobID: interrupted.id, status: nil, afterIndex: -1, limit: rows)
        let byIndex = Dictionary(uniqueKeysWithValues: after.map { ($0.index, $0) })
        for item in doneBefore {
            #expect(byIndex[item.index]?.finishedAt == item.finishedAt, "item \(item.index) was not redone")
            #expect(byIndex[item.index]?.attempts == 1)
        }
        let lines = try String(contentsOfFile: directory.path("out.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == rows)
        let indexes = try lines.map { try JSONParser.parse(String($0))["index"]!.intValue! }
        #expect(indexes == Array(0..<rows), "every item exactly once, in input order")
    }

    /// A plain progress line with a non-zero `ok` count.
    static func showsProgress(_ text: String) -> Bool {
        text.split(separator: "\n").contains { line in
            guard let range = line.range(of: "ok ") else { return false }
            let count = line[range.upperBound...].prefix { $0.isNumber }
            return (Int(count) ?? 0) > 0
        }
    }

    /// The id from the run's first line, `job job_…: …`.
    static func jobID(in text: String) -> String? {
        guard let range = text.range(of: "job job_") else { return nil }
        return String(text[text.index(range.lowerBound, offsetBy: 4)...].prefix { $0 != ":" })
    }
}
