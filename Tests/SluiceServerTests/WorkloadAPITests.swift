import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SluiceCore
import SluiceServer
import SluiceSpreadsheet
import SluiceStore
import SluiceTestSupport
import Testing

/// The plans' workloads through the HTTP API as their users would send them.
@Suite struct WorkloadAPITests {
    /// Plan 002's file as it is: a question column, optional chatId, URL and lang.
    static let plan002CSV = """
        question,chatId,URL,lang
        How do I renew my passport?,c1,https://example.gc.ca/passport,en
        And how long does it take?,c1,,
        Où trouver le formulaire?,c2,,fr
        What is the deadline for taxes?,,https://example.gc.ca/taxes,

        """

    @Test func plan002sCSVRunsUnchangedThroughChatAnswer() async throws {
        try await ServerHarness.with { server in
            let reply = try await server.submit(Self.plan002CSV, query: "preset=chat-answer")
            #expect(reply.status == 202, "\(reply.text)")
            let id = try #require(reply.json["id"]?.stringValue)
            let job = try await server.waitFor(id, until: ServerHarness.isFinal)
            #expect(job["status"] == "completed", "\(job)")
            #expect(job["counts"]?["succeeded"] == 4)
            let items = try await server.store.items(jobID: id, status: nil, afterIndex: -1, limit: 10)
            #expect(items.map(\.groupKey) == ["c1", "c1", "c2", nil])
        }
    }

    @Test func aPresetReadsDifferentlyNamedColumnsThroughField() async throws {
        try await ServerHarness.with { server in
            let csv = "message,conversation\nHello there,a\nAnd again,a\n"
            let refused = try await server.submit(csv, query: "preset=chat-answer")
            let refusedJob = try await server.waitFor(try #require(refused.json["id"]?.stringValue), until: ServerHarness.isFinal)
            #expect(refusedJob["status"] == "failed")
            #expect(refusedJob["errors"]?.arrayValue?.first?["message"]?.stringValue?.contains("'question'") == true)

            let mapped = try await server.submitForm(
                fields: [("preset", "chat-answer"), ("field", "question=message"), ("field", "chatId=conversation")],
                files: [("chats.csv", csv)])
            #expect(mapped.status == 202, "\(mapped.text)")
            let id = try #require(mapped.json["id"]?.stringValue)
            let job = try await server.waitFor(id, until: ServerHarness.isFinal)
            #expect(job["status"] == "completed")
            let stored = try #require(try await server.store.job(id: id))
            #expect(stored.spec.template?.fields == ["message"] && stored.spec.groupBy == "conversation")
            let items = try await server.store.items(jobID: id, status: nil, afterIndex: -1, limit: 10)
            #expect(items.map(\.groupKey) == ["a", "a"])

            let typo = try await server.submit(csv, query: "preset=chat-answer&field=questoin=message")
            #expect(typo.status == 400)
            #expect(typo.json["error"]?["param"] == "fields.questoin")
            #expect(try await server.submit(csv, query: "preset=chat-answer&field=question").status == 400)
        }
    }

    @Test func mapRowsPacksFiftyRowsACallAndReportsIt() async throws {
        try await ServerHarness.with { server in
            let csv = "sku,title\n" + (0..<120).map { "S\($0),Product number \($0)\n" }.joined()
            let reply = try await server.submit(csv, query: "preset=map-rows")
            let id = try #require(reply.json["id"]?.stringValue)
            let job = try await server.waitFor(id, until: ServerHarness.isFinal)
            #expect(job["status"] == "completed")
            #expect(job["counts"]?["succeeded"] == 120)
            #expect(job["usage"]?["calls"] == 3, "120 rows in packs of 50: 50, 50, 20")
            #expect(job["usage"]?["rows_per_call"] == 40.0)
            let lines = try await server.get("/v1/jobs/\(id)/results?format=jsonl").text.split(separator: "\n")
            let first = try JSONParser.parse(String(lines[0]))
            #expect(first["output"]?["category"]?.stringValue != nil && first["cached"] == false)
        }
    }

    @Test func theSameRequestTwiceIsAnsweredFromTheCache() async throws {
        try await ServerHarness.with { server in
            let first = try #require(try await server.submit(reviewsCSV(20)).json["id"]?.stringValue)
            _ = try await server.waitFor(first, until: ServerHarness.isFinal)
            let second = try #require(try await server.submit(reviewsCSV(20)).json["id"]?.stringValue)
            let job = try await server.waitFor(second, until: ServerHarness.isFinal)
            #expect(job["counts"]?["cached"] == 20 && job["usage"]?["calls"] == 0)
            let lines = try await server.get("/v1/jobs/\(second)/results?format=jsonl").text.split(separator: "\n")
            #expect(lines.allSatisfy { (try? JSONParser.parse(String($0)))?["cached"] == true })
            let metrics = try await server.get("/metrics").text
            // The registry is the process's, shared with tests running alongside: at least this job's hits.
            let hits = metrics.split(separator: "\n").first { $0.hasPrefix("sluice_cache_hits_total ") }.flatMap {
                Double($0.split(separator: " ")[1])
            }
            #expect((hits ?? 0) >= 20, "\(metrics.split(separator: "\n").filter { $0.contains("cache") })")
            let off = try #require(
                try await server.submit(reviewsCSV(20), query: "preset=text-classify&cache=false").json["id"]?.stringValue)
            let paid = try await server.waitFor(off, until: ServerHarness.isFinal)
            #expect(paid["counts"]?["cached"] == 0 && paid["usage"]?["calls"] == 20)
        }
    }

    @Test func theEventStreamSaysWhyAJobPaused() async throws {
        try await ServerHarness.with(workers: false) { server in
            let id = try #require(try await server.submit(reviewsCSV(3)).json["id"]?.stringValue)
            _ = try await server.waitFor(id) { $0["status"] == "queued" }
            _ = try await server.post("/v1/jobs/\(id)/pause")
            var request = HTTPClientRequest(url: server.baseURL + "/v1/jobs/\(id)/events")
            request.method = .GET
            let response = try await server.http.execute(request, timeout: .seconds(60))
            var text = ""
            var cancelled = false
            for try await chunk in response.body {
                text += String(buffer: chunk)
                if !cancelled, text.contains("event: status") {
                    cancelled = true
                    _ = try await server.post("/v1/jobs/\(id)/cancel")
                }
            }
            let first = try #require(text.components(separatedBy: "\n\n").first { $0.hasPrefix("event: status") })
            let data = try JSONParser.parse(String(first.split(separator: "\n")[1].dropFirst("data: ".count)))
            #expect(data["status"] == "paused" && data["status_reason"] == "paused by request")
        }
    }

    @Test func aBatchHasNoFailureBrakeSinceNoOpenAIClientCouldResumeIt() async throws {
        try await ServerHarness.with(workers: false) { server in
            let file = try #require(try await server.uploadBatchFile(lines: 3).json["id"]?.stringValue)
            let batch = try #require(try await server.createBatch(fileID: file).json["id"]?.stringValue)
            #expect(try await server.store.job(id: batch)?.spec.failureBrake == nil)
            let native = try #require(try await server.submit(reviewsCSV(2)).json["id"]?.stringValue)
            #expect(try await server.store.job(id: native)?.spec.failureBrake == .standard)
        }
    }

    @Test func budgetsAreCheckedAndAResumeCanRaiseThem() async throws {
        // No workers: the job waits queued, so pausing and resuming it race nothing.
        try await ServerHarness.with(workers: false) { server in
            let unpriced = try await server.submit(reviewsCSV(2), query: "preset=text-classify&budget=%7B%22cost_usd%22%3A1%7D")
            #expect(unpriced.status == 400)
            #expect(unpriced.json["error"]?["message"]?.stringValue?.contains("no price is configured") == true)
            let negative = try await server.submit(reviewsCSV(2), query: "preset=text-classify&budget=%7B%22tokens%22%3A-1%7D")
            #expect(negative.status == 400 && negative.json["error"]?["param"] == "budget.tokens")

            let id = try #require(
                try await server.submit(reviewsCSV(2), query: "preset=text-classify&budget=%7B%22tokens%22%3A50000%7D").json["id"]?
                    .stringValue)
            let queued = try await server.waitFor(id) { $0["status"] == "queued" }
            #expect(queued["budget"] == ["tokens": 50000])
            #expect(try await server.post("/v1/jobs/\(id)/pause").status == 200)
            let badBody = try await server.call(
                .POST, "/v1/jobs/\(id)/resume", headers: [("Content-Type", "application/json")],
                body: .bytes(ByteBuffer(string: #"{"budget": {"tokens": "lots"}}"#)))
            #expect(badBody.status == 400)
            #expect(badBody.json["error"]?["message"]?.stringValue?.contains("budget.tokens") == true)
            for body in [#"{"budget": {"tokens": 5}, "priority": 1}"#, "not json", #"{"budget": {"cost_usd": 1}}"#] {
                let refused = try await server.call(
                    .POST, "/v1/jobs/\(id)/resume", headers: [("Content-Type", "application/json")], body: .bytes(ByteBuffer(string: body)))
                #expect(refused.status == 400, "\(body): \(refused.text)")
            }
            let badChunks = try await server.submit("a\n", contentType: "text/plain", query: "preset=course-outline&chunk_chars=many")
            #expect(badChunks.status == 400 && badChunks.json["error"]?["param"] == "chunk_chars")
            let tinyChunks = try await server.submit("a\n", contentType: "text/plain", query: "preset=course-outline&chunk_chars=10")
            #expect(tinyChunks.status == 400 && tinyChunks.json["error"]?["param"] == "input.chunk_chars")
            #expect(try await server.get("/v1/jobs/\(id)").json["status"] == "paused", "a refused resume changes nothing")
            let resumed = try await server.call(
                .POST, "/v1/jobs/\(id)/resume", headers: [("Content-Type", "application/json")],
                body: .bytes(ByteBuffer(string: #"{"budget": {"tokens": 90000}}"#)))
            #expect(resumed.status == 200, "\(resumed.text)")
            #expect(resumed.json["status"] == "queued" && resumed.json["budget"] == ["tokens": 90000])
        }
    }
}

/// Plan 004: documents uploaded together become one course.
@Suite struct DocumentAPITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized

    static func file(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: root.appendingPathComponent(path)))
    }

    /// A multipart body of binary files and text fields.
    static func form(fields: [(String, String)], files: [(String, [UInt8])]) -> (String, [UInt8]) {
        let boundary = "sluice-doc-boundary"
        var body: [UInt8] = []
        for (name, value) in fields {
            body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n".utf8)
        }
        for (name, bytes) in files {
            body += Array(
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(name)\"\r\nContent-Type: application/pdf\r\n\r\n"
                    .utf8)
            body += bytes + Array("\r\n".utf8)
        }
        body += Array("--\(boundary)--\r\n".utf8)
        return ("multipart/form-data; boundary=\(boundary)", body)
    }

    @Test func severalPDFsBecomeOneCourseAndABrokenOneFailsAlone() async throws {
        try await ServerHarness.with { server in
            let (type, body) = Self.form(
                fields: [("preset", "course-outline"), ("var", "course_title=Running a water plant")],
                files: [
                    ("water-treatment.pdf", try Self.file("Examples/water-treatment.pdf")),
                    ("locked.pdf", try Self.file("Tests/Fixtures/encrypted.pdf")),
                    ("lab-safety.pdf", try Self.file("Examples/lab-safety.pdf")),
                    ("scan.pdf", try Self.file("Tests/Fixtures/image-only.pdf")),
                ])
            let reply = try await server.call(.POST, "/v1/jobs", headers: [("Content-Type", type)], body: .bytes(ByteBuffer(bytes: body)))
            #expect(reply.status == 202, "\(reply.text)")
            let id = try #require(reply.json["id"]?.stringValue)
            let job = try await server.waitFor(id, until: ServerHarness.isFinal)
            #expect(job["status"] == "completed_with_errors", "\(job)")
            #expect(job["counts"]?["failed"] == 2)
            let errors = job["errors"]?.arrayValue?.compactMap { $0["message"]?.stringValue } ?? []
            #expect(errors.contains("locked.pdf is encrypted with a password; remove the password and upload it again"), "\(errors)")
            #expect(errors.contains { $0.hasPrefix("scan.pdf has no text to extract") }, "\(errors)")
            let course = try await server.get("/v1/jobs/\(id)/result")
            #expect(course.status == 200, "\(course.text)")
            #expect(course.json["title"] == "Running a water plant")
            #expect(course.json["modules"]?.arrayValue?.count == 2, "one module per readable document")
            #expect(course.json["quiz"]?.arrayValue?.isEmpty == false)
            let plain = try await server.submit(reviewsCSV(2))
            let plainID = try #require(plain.json["id"]?.stringValue)
            _ = try await server.waitFor(plainID, until: ServerHarness.isFinal)
            #expect(try await server.get("/v1/jobs/\(plainID)/result").status == 409, "a job without a reduce step has no one result")
        }
    }

    @Test func aJobShowsItsStageAndMessage() async throws {
        // No workers: the job waits after its extraction, in its map stage.
        try await ServerHarness.with(workers: false) { server in
            let (type, body) = Self.form(
                fields: [("preset", "course-outline"), ("chunk_chars", "500")],
                files: [("water-treatment.pdf", try Self.file("Examples/water-treatment.pdf"))])
            let reply = try await server.call(.POST, "/v1/jobs", headers: [("Content-Type", type)], body: .bytes(ByteBuffer(bytes: body)))
            let id = try #require(reply.json["id"]?.stringValue)
            let job = try await server.waitFor(id) { $0["status"] == "queued" }
            let total = try #require(job["counts"]?["total"]?.intValue)
            #expect(total >= 2, "500-character chunks of the document")
            #expect(job["stage"] == "mapping")
            #expect(job["message"] == .string("Working on part 1 of \(total)…"))
            #expect(try await server.get("/v1/jobs/\(id)/result").status == 409)
        }
    }
}

/// Plan 002's spreadsheets through the API: a workbook up, a workbook down.
@Suite struct SpreadsheetAPITests {
    @Test func aWorkbookUploadedIsReadAndItsResultsDownloadAsAWorkbook() async throws {
        try await ServerHarness.with { server in
            let bytes = try DocumentAPITests.file("Tests/Fixtures/libreoffice.xlsx")
            let reply = try await server.call(
                .POST, "/v1/jobs?preset=text-classify&filename=reviews.xlsx",
                headers: [("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")],
                body: .bytes(ByteBuffer(bytes: bytes)))
            #expect(reply.status == 202, "\(reply.text)")
            let id = try #require(reply.json["id"]?.stringValue)
            let job = try await server.waitFor(id, until: ServerHarness.isFinal)
            #expect(job["status"] == "completed" && job["counts"]?["succeeded"] == 3, "\(job)")
            let download = try await server.get("/v1/jobs/\(id)/results?format=xlsx")
            #expect(download.status == 200)
            #expect(download.headers["Content-Type"] == ["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"])
            let directory = TemporaryDirectory()
            let path = directory.write("results.xlsx", bytes: download.body)
            let reader = try XLSXSheetReader(path: path, sheet: nil)
            #expect(try reader.nextRow()?.cells.first == "id")
            #expect(try reader.nextRow()?.cells[2] == "2024-03-05")
        }
    }

    @Test func aSheetWithoutAHeaderFailsTheJobWithItsLine() async throws {
        try await ServerHarness.with { server in
            let (type, body) = DocumentAPITests.form(
                fields: [("preset", "text-classify"), ("sheet", "Numbers")],
                files: [("book.xlsx", try DocumentAPITests.file("Tests/Fixtures/openpyxl.xlsx"))])
            let reply = try await server.call(.POST, "/v1/jobs", headers: [("Content-Type", type)], body: .bytes(ByteBuffer(bytes: body)))
            let id = try #require(reply.json["id"]?.stringValue)
            let job = try await server.waitFor(id, until: ServerHarness.isFinal)
            #expect(job["status"] == "failed")
            let error = job["errors"]?.arrayValue?.first
            #expect(error?["line"] == 1)
            #expect(error?["message"]?.stringValue?.contains("seems to have no header row") == true, "\(job)")
        }
    }
}
