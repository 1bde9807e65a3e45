import Foundation
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing

@Suite struct RunCommandTests {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Examples").standardized

    @Test func theMainJobRunsOfflineAndWritesCSV() async throws {
        let directory = TemporaryDirectory()
        let input = Self.examples.appendingPathComponent("support-chats.json").path
        let run = try await SluiceProcess.run(["run", input, "--preset", "conversation-score", "-o", "out.csv"], in: directory.url)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("built-in offline provider"))
        #expect(run.stderr.contains("completed: 24 succeeded, 0 failed of 24"))
        let csv = try String(contentsOfFile: directory.path("out.csv"), encoding: .utf8)
        let lines = csv.split(separator: "\r\n")
        #expect(lines.first == "id,channel,messages,score,sentiment,summary,sluice_status,sluice_error,sluice_model")
        #expect(lines.count == 25)
        #expect(lines.dropFirst().allSatisfy { $0.hasSuffix(",succeeded,,sluice-offline") })
    }

    @Test func runningAFinishedJobAgainRedoesNothing() async throws {
        let directory = TemporaryDirectory()
        let input = directory.write("in.jsonl", "{\"text\": \"great\"}\n{\"text\": \"awful\"}\n")
        let arguments = ["run", input, "--preset", "text-classify", "--database", "db.sqlite"]
        let first = try await SluiceProcess.run(arguments, in: directory.url)
        #expect(first.status == 0)
        let second = try await SluiceProcess.run(arguments, in: directory.url)
        #expect(second.status == 0)
        #expect(second.stderr.contains("resuming job_"))
        #expect(second.stdout == first.stdout, "the same results, from the stored job")
        #expect(first.stdout.split(separator: "\n").count == 2)
    }

    @Test func malformedInputExitsOneWithLineNumbersAndNoResults() async throws {
        let directory = TemporaryDirectory()
        let input = directory.write("bad.csv", "id,text\n1,fine\n2\n")
        let run = try await SluiceProcess.run(["run", input, "--preset", "text-classify", "-o", "out.csv"], in: directory.url)
        #expect(run.status == 1)
        #expect(run.stderr.contains("line 3: expected 2 fields as in the header, found 1"))
        #expect(run.stderr.contains("no item was sent to a model"))
        #expect(!FileManager.default.fileExists(atPath: directory.path("out.csv")))
    }

    @Test func someFailedItemsExitThree() async throws {
        let directory = TemporaryDirectory()
        let input = directory.write("in.csv", "text\nok\nfar too long\n")
        let spec = directory.write(
            "spec.json",
            #"{"template": "{{text}}", "max_attempts": 1, "output_schema": {"type": "object", "properties": {"text": {"type": "string", "maxLength": 3}}}}"#
        )
        let run = try await SluiceProcess.run(["run", input, "--spec", spec, "-o", "out.jsonl"], in: directory.url)
        #expect(run.status == 3, "\(run.stderr)")
        let lines = try String(contentsOfFile: directory.path("out.jsonl"), encoding: .utf8).split(separator: "\n")
        let parsed = try lines.map { try JSONParser.parse(String($0)) }
        #expect(parsed.map { $0["status"] } == ["succeeded", "failed"])
        #expect(parsed[1]["error"]?.stringValue?.contains("longer than 3 characters") == true)
        #expect(parsed[1]["output"] == .null)
    }

    /// `--image-column` sends each row's image after its prompt: the offline provider reads
    /// the inline one, says the URL was not fetched, and the row whose cell is no image fails.
    @Test func imageColumnsRunOfflineAndABadCellFailsItsRow() async throws {
        let directory = TemporaryDirectory()
        let png = "iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAIAAAA="
        let input = directory.write(
            "photos.csv", "name,photo\nmug,\"data:image/png;base64,\(png)\"\ncup,https://shop.test/cup.jpg\njar,jar.jpg\n")
        let spec = directory.write("spec.json", #"{"template": "Describe the {{name}}."}"#)
        let run = try await SluiceProcess.run(
            ["run", input, "--spec", spec, "--image-column", "photo", "--image-detail", "low", "-o", "out.jsonl"], in: directory.url)
        #expect(run.status == 3, "\(run.stderr)")
        let lines = try String(contentsOfFile: directory.path("out.jsonl"), encoding: .utf8).split(separator: "\n")
        let parsed = try lines.map { try JSONParser.parse(String($0)) }
        #expect(parsed.map { $0["status"] } == ["succeeded", "succeeded", "failed"])
        #expect(
            parsed[0]["output"]?.stringValue?.hasSuffix("Images: a PNG image of 2 × 1 pixels, its pixels not readable here.") == true,
            "\(parsed[0])")
        #expect(parsed[1]["output"]?.stringValue?.contains("an image at shop.test, not fetched") == true, "\(parsed[1])")
        #expect(
            parsed[2]["error"]
                == "photo: 'jar.jpg' is neither an http(s) URL nor a data: URI (a file's path needs the file uploaded with the table, in a .zip)"
        )
        let refused = try await SluiceProcess.run(["run", input, "--spec", spec, "--image-detail", "max"], in: directory.url)
        #expect(refused.status == 64 && refused.stderr.contains("--image-detail must be low, high or auto"), "\(refused.stderr)")
    }

    /// A zip of a table and the photos its rows name runs offline as one job: the offline
    /// provider reads each photo from the archive; a row naming a file it lacks fails alone.
    @Test func aZipOfATableAndItsPhotosRunsOffline() async throws {
        let directory = TemporaryDirectory()
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures/images")
        var zip = ZipBuilder()
        zip.add("catalogue/rows.csv", "name,photo\nmug,photos/mug.gif\ncup,photos/cup.png\n")
        zip.add("catalogue/photos/mug.gif", Array(try Data(contentsOf: folder.appendingPathComponent("picture.gif").standardized)))
        let input = directory.write("catalogue.zip", bytes: zip.bytes())
        let spec = directory.write("spec.json", #"{"template": "Describe the {{name}}."}"#)
        let run = try await SluiceProcess.run(
            ["run", input, "--spec", spec, "--image-column", "photo", "-o", "out.jsonl"], in: directory.url)
        #expect(run.status == 3, "\(run.stderr)")
        let lines = try String(contentsOfFile: directory.path("out.jsonl"), encoding: .utf8).split(separator: "\n")
        let parsed = try lines.map { try JSONParser.parse(String($0)) }
        #expect(parsed.map { $0["status"] } == ["succeeded", "failed"])
        #expect(
            parsed[0]["output"]?.stringValue?.hasSuffix("Images: a GIF image of 37 × 23 pixels, mostly #c81e1e (70%), #1428dc (30%).")
                == true,
            "\(parsed[0])")
        #expect(parsed[1]["error"] == "photo: 'photos/cup.png' is not in the upload (looked for catalogue/photos/cup.png)")
        // The estimate reads the archive as the job does: the row that would fail makes no call.
        let estimate = try await SluiceProcess.run(
            ["run", input, "--spec", spec, "--image-column", "photo", "--estimate"], in: directory.url)
        #expect(estimate.status == 0, "\(estimate.stderr)")
        #expect(estimate.stdout.contains("estimate: 2 rows in 1 calls"), "\(estimate.stdout)")

        // A documents column: each row's text file becomes its field's text.
        var notes = ZipBuilder()
        notes.add("rows.csv", "name,notes\nmug,mug.txt\n")
        notes.add("mug.txt", "Glazed, dishwasher safe.")
        let noted = directory.write("notes.zip", bytes: notes.bytes())
        let echo = directory.write(
            "echo.json",
            #"{"template": "Describe the {{name}}: {{notes}}", "output_schema": {"type": "object", "properties": {"summary": {"type": "string"}}, "required": ["summary"]}}"#
        )
        let read = try await SluiceProcess.run(
            ["run", noted, "--spec", echo, "--document-column", "notes", "-o", "notes.jsonl"], in: directory.url)
        #expect(read.status == 0, "\(read.stderr)")
        let row = try JSONParser.parse(try String(contentsOfFile: directory.path("notes.jsonl"), encoding: .utf8))
        #expect(row["input"]?["notes"] == "Glazed, dishwasher safe.", "\(row)")
    }

    @Test(arguments: [
        ["run", "x.csv"],
        ["run", "missing.csv", "--preset", "text-classify"],
        ["run", "in.csv", "--preset", "no-such-preset"],
        ["run", "in.csv", "--preset", "text-classify", "-o", "out.xls"],
        ["run", "in.csv", "--preset", "text-classify", "--field", "text"],
        ["run", "in.csv", "--preset", "text-classify", "--items-per-request", "101"],
        ["run", "in.csv", "--preset", "text-classify", "--budget-tokens", "0"],
        ["run", "in.csv", "--preset", "text-classify", "--var", "course_title"],
        ["run", "in.csv", "--preset", "text-classify", "--budget-usd", "1"],
        ["run", "in.csv", "--preset", "text-classify", "--concurrency", "0"],
        ["run", "in.data", "--preset", "text-classify"],
        ["run", "in.csv", "--preset", "text-classify", "--rpm", "0"],
        ["run", "in.csv", "--preset", "text-classify", "--tpm", "-5"],
        ["run", "in.csv", "--preset", "text-classify", "--max-in-flight", "0"],
        ["run", "in.csv", "--preset", "text-classify", "--config", "missing.yaml"],
    ])
    func usageErrorsExitSixtyFour(arguments: [String]) async throws {
        let directory = TemporaryDirectory()
        directory.write("in.csv", "text\nhi\n")
        directory.write("in.data", "text\nhi\n")
        let run = try await SluiceProcess.run(arguments, in: directory.url)
        #expect(run.status == 64, "\(run.stderr)")
        #expect(!run.stderr.isEmpty)
    }

    @Test func presetsAreListed() async throws {
        let directory = TemporaryDirectory()
        let run = try await SluiceProcess.run(["presets"], in: directory.url)
        #expect(run.status == 0)
        for name in ["conversation-score", "chat-answer", "text-classify", "document-summary", "map-rows", "course-outline"] {
            #expect(run.stdout.contains(name))
        }
    }
}
