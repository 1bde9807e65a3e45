import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SluiceCore
import SluiceServer
import SluiceStore
import SluiceTestSupport
import Testing

@Suite struct JobAPITests {
    @Test func aRawUploadIsAcceptedAtOnceAndRunsToResults() async throws {
        try await ServerHarness.with { server in
            let reply = try await server.submit(reviewsCSV(30), query: "preset=text-classify&name=reviews")
            #expect(reply.status == 202)
            let id = try #require(reply.json["id"]?.stringValue)
            #expect(reply.headers["Location"] == ["/v1/jobs/\(id)"])
            #expect(reply.json["status"] == "validating")
            #expect(reply.json["name"] == "reviews")
            #expect(reply.headers["X-Request-Id"].first?.hasPrefix("req_") == true)

            let job = try await server.waitFor(id, until: ServerHarness.isFinal)
            #expect(job["status"] == "completed")
            #expect(job["counts"]?["succeeded"] == 30)
            #expect(job["progress"] == 1.0)
            #expect(job["eta_seconds"] == 0)
            #expect(job["started_at"] != .null && job["finished_at"] != .null)

            let jsonl = try await server.get("/v1/jobs/\(id)/results?format=jsonl")
            #expect(jsonl.headers["Content-Type"] == ["application/x-ndjson"])
            let lines = jsonl.text.split(separator: "\n").map { try? JSONParser.parse(String($0)) }
            #expect(lines.count == 30)
            #expect(lines.first??["index"] == 0 && lines.first??["status"] == "succeeded")
            let csv = try await server.get("/v1/jobs/\(id)/results?format=csv")
            #expect(csv.text.hasPrefix("id,text,"))
            #expect(csv.text.split(whereSeparator: \.isNewline).count == 31)
            #expect(try await server.get("/v1/jobs/\(id)/results?format=xml").status == 400)
        }
    }

    @Test func aMultipartUploadCarriesSpecFieldsAndSeveralFiles() async throws {
        try await ServerHarness.with { server in
            let reply = try await server.submitForm(
                fields: [("spec", #"{"template": "Classify: {{text}}"}"#), ("max_attempts", "2")],
                files: [("a.csv", reviewsCSV(3)), ("b.jsonl", #"{"text": "one"}"# + "\n" + #"{"text": "two"}"# + "\n")])
            #expect(reply.status == 202, "\(reply.text)")
            let id = try #require(reply.json["id"]?.stringValue)
            #expect(reply.json["files"] == ["a.csv", "b.jsonl"])
            let job = try await server.waitFor(id, until: ServerHarness.isFinal)
            #expect(job["counts"]?["total"] == 5)
            let stored = try #require(try await server.store.job(id: id))
            #expect(stored.spec.maxAttempts == 2)
            #expect(stored.sources.map(\.format) == [.csv, .jsonl])

            // The query's fields count where the form has none of that name; the form's win.
            let mixed = try await server.submitForm(
                fields: [("max_attempts", "3")], files: [("c.csv", reviewsCSV(2))], query: "preset=text-classify&max_attempts=7")
            #expect(mixed.status == 202, "\(mixed.text)")
            let mixedID = try #require(mixed.json["id"]?.stringValue)
            let mixedJob = try #require(try await server.store.job(id: mixedID))
            #expect(mixedJob.spec.maxAttempts == 3 && mixedJob.spec.preset == "text-classify")
        }
    }

    /// `image_column` (repeatable) names the spec's image columns in the query: each row's
    /// image goes with its call (the offline provider describes it) and a bad cell fails its row.
    @Test func imageColumnsGoWithEachRowAndABadCellFailsItsRow() async throws {
        try await ServerHarness.with { server in
            let csv = "name,photo\nmug,\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAIAAAA=\"\njar,jar.jpg\n"
            let reply = try await server.submit(
                csv, query: "template=Describe%20the%20%7B%7Bname%7D%7D.&image_column=photo&image_detail=low")
            #expect(reply.status == 202, "\(reply.text)")
            let id = try #require(reply.json["id"]?.stringValue)
            let job = try await server.waitFor(id, until: ServerHarness.isFinal)
            #expect(job["status"] == "completed_with_errors")
            let stored = try #require(try await server.store.job(id: id))
            #expect(stored.spec.images == ["photo"] && stored.spec.imageDetail == "low")
            let results = try await server.get("/v1/jobs/\(id)/results?format=jsonl")
            let lines = try results.text.split(separator: "\n").map { try JSONParser.parse(String($0)) }
            #expect(
                lines.first?["output"]?.stringValue?.hasSuffix("Images: a PNG image of 2 × 1 pixels, its pixels not readable here.")
                    == true, "\(results.text)")
            #expect(
                lines.last?["error"]
                    == "photo: 'jar.jpg' is neither an http(s) URL nor a data: URI (a file's path needs the file uploaded with the table, in a .zip)"
            )
            let refused = try await server.submit(csv, query: "template=x&image_detail=max")
            #expect(refused.status == 400 && refused.text.contains("image_detail"), "\(refused.text)")
        }
    }

    /// A zip of a table and its photos, posted as the body: one job, each row's photo read from
    /// the kept upload for its call (the offline provider names its colours); a path that leaves
    /// the upload fails its row; a zip that is no archive fails the job with the reason.
    @Test func aZipOfATableAndItsPhotosIsOneJob() async throws {
        try await ServerHarness.with { server in
            let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures/images")
            var zip = ZipBuilder()
            zip.add("rows.csv", "name,photo\nmug,photos/mug.png\nescape,../mug.png\n")
            zip.add("photos/mug.png", Array(try Data(contentsOf: folder.appendingPathComponent("picture.png").standardized)))
            let reply = try await server.submit(
                bytes: zip.bytes(), contentType: "application/zip", query: "template=Describe%20the%20%7B%7Bname%7D%7D.&image_column=photo")
            #expect(reply.status == 202, "\(reply.text)")
            let id = try #require(reply.json["id"]?.stringValue)
            let job = try await server.waitFor(id, until: ServerHarness.isFinal)
            #expect(job["status"] == "completed_with_errors", "\(job)")
            let results = try await server.get("/v1/jobs/\(id)/results?format=jsonl")
            let lines = try results.text.split(separator: "\n").map { try JSONParser.parse(String($0)) }
            #expect(
                lines.first?["output"]?.stringValue?.hasSuffix(
                    "Images: a PNG image of 37 × 23 pixels, mostly #c81e1e (70%), #1428dc (30%).")
                    == true, "\(results.text)")
            #expect(lines.last?["error"] == "photo: '../mug.png' points outside the upload")

            let notZip = try await server.submit(
                bytes: Array("name,photo\n".utf8), contentType: "application/zip", query: "template=x&image_column=photo")
            let failedID = try #require(notZip.json["id"]?.stringValue)
            let failed = try await server.waitFor(failedID, until: ServerHarness.isFinal)
            #expect(failed["status"] == "failed")
            #expect(
                failed["errors"]?.arrayValue?.first?["message"] == "not a ZIP archive (it has no end of central directory record)",
                "\(failed)")
        }
    }

    @Test func malformedInputFailsTheJobWithLineNumbers() async throws {
        try await ServerHarness.with { server in
            let reply = try await server.submit("id,text\n1,fine\n2,\"never closed\n")
            let id = try #require(reply.json["id"]?.stringValue)
            let job = try await server.waitFor(id, until: ServerHarness.isFinal)
            #expect(job["status"] == "failed")
            #expect(job["errors"]?.arrayValue?.first?["line"] == 3)
            #expect(job["counts"]?["total"] == 0)
        }
    }

    @Test func badRequestsGetClearErrorsAndLeaveNothingBehind() async throws {
        try await ServerHarness.with(maxUploadBytes: 4096) { server in
            let badJSON = try await server.submit("a\n", query: "spec=%7Bnot%20json")
            #expect(badJSON.status == 400)
            #expect(badJSON.errorCode == "invalid_request")
            #expect(badJSON.json["error"]?["message"]?.stringValue?.contains("spec is not valid JSON") == true)
            let unknownPreset = try await server.submit("a\n", query: "preset=nope")
            #expect(unknownPreset.status == 400)
            #expect(unknownPreset.errorCode == "invalid_spec")
            #expect(try await server.submit("a\n", query: "preset=text-classify&colour=red").status == 400)
            let noTemplate = try await server.submit("a\n", query: "model=x")
            #expect(noTemplate.json["error"]?["param"] == "template")
            let unsupported = try await server.submit("a\n", contentType: "image/png")
            #expect(unsupported.status == 415)
            #expect(unsupported.errorCode == "unsupported_media_type")

            // Over the limit, declared up front or discovered while streaming.
            let big = String(repeating: "x", count: 5000)
            let declared = try await server.submit("id,text\n1," + big + "\n")
            #expect(declared.status == 413)
            let chunks = [ByteBuffer(string: "id,text\n"), ByteBuffer(string: big)]
            let streamed = try await server.call(
                .POST, "/v1/jobs?preset=text-classify", headers: [("Content-Type", "text/csv")],
                body: .stream(chunks.async, length: .unknown))
            #expect(streamed.status == 413)
            #expect(streamed.errorCode == "upload_too_large")

            let unknownRoute = try await server.get("/v1/nothing")
            #expect(unknownRoute.status == 404)
            #expect(unknownRoute.errorCode == "not_found")
            #expect(try await server.get("/v1/jobs/job_missing").status == 404)
            let wrongMethod = try await server.call(.PUT, "/v1/jobs/job_missing")
            #expect(wrongMethod.status == 405)
            #expect(wrongMethod.headers["Allow"] == ["GET, DELETE"])

            #expect(try await server.store.jobs(JobQuery(owner: nil, limit: 10)).isEmpty)
            let uploads = try FileManager.default.contentsOfDirectory(atPath: server.directory.path("uploads"))
            #expect(uploads == ["files"], "refused uploads leave no files: \(uploads)")
        }
    }

    @Test func badFormsAndQueriesAreRefusedWithTheirReason() async throws {
        try await ServerHarness.with { server in
            let noFile = try await server.submitForm(fields: [("preset", "text-classify")], files: [])
            #expect(noFile.status == 400)
            #expect(noFile.json["error"]?["param"] == "file")
            let unknownFormat = try await server.submitForm(fields: [("preset", "text-classify")], files: [("notes.bin", "x")])
            #expect(unknownFormat.status == 400)
            #expect(unknownFormat.json["error"]?["message"]?.stringValue?.contains("cannot tell the format of notes.bin") == true)
            let badNumber = try await server.submitForm(
                fields: [("preset", "text-classify"), ("batch_size", "many")], files: [("a.csv", "id,text\n1,x\n")])
            #expect(badNumber.json["error"]?["param"] == "batch_size")
            let unclosed = try await server.call(
                .POST, "/v1/jobs", headers: [("Content-Type", "multipart/form-data; boundary=zz")],
                body: .bytes(
                    ByteBuffer(string: "--zz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nid,text\n")))
            #expect(unclosed.status == 400)
            #expect(unclosed.json["error"]?["message"]?.stringValue?.contains("closing boundary") == true)
            #expect(try await server.store.jobs(JobQuery(owner: nil, limit: 10)).isEmpty)

            let id = try #require(try await server.submit(reviewsCSV(2)).json["id"]?.stringValue)
            #expect(try await server.get("/v1/jobs/\(id)/items?after=x").status == 400)
            #expect(try await server.get("/v1/jobs/\(id)/items?after=-5").status == 400)
            #expect(try await server.get("/v1/jobs/\(id)/items?status=bogus").status == 400)
            #expect(try await server.get("/v1/jobs/\(id)/items?limit=1001").status == 400)
        }
    }

    @Test func listsArePagedAndFiltered() async throws {
        try await ServerHarness.with { server in
            var ids: [String] = []
            for _ in 0..<3 { ids.append(try #require(try await server.submit(reviewsCSV(2)).json["id"]?.stringValue)) }
            for id in ids { _ = try await server.waitFor(id, until: ServerHarness.isFinal) }
            let first = try await server.get("/v1/jobs?limit=2").json
            #expect(first["data"]?.arrayValue?.map { $0["id"]?.stringValue } == [ids[2], ids[1]])
            #expect(first["has_more"] == true)
            let rest = try await server.get("/v1/jobs?limit=2&after=\(ids[1])").json
            #expect(rest["data"]?.arrayValue?.map { $0["id"]?.stringValue } == [ids[0]])
            #expect(rest["has_more"] == false)
            #expect(try await server.get("/v1/jobs?status=failed").json["data"] == [])
            #expect(try await server.get("/v1/jobs?status=bogus").status == 400)
            #expect(try await server.get("/v1/jobs?limit=0").status == 400)

            let items = try await server.get("/v1/jobs/\(ids[0])/items?limit=1").json
            #expect(items["data"]?.arrayValue?.first?["index"] == 0)
            #expect(items["data"]?.arrayValue?.first?["input"]?["text"] == "review 0 was great")
            #expect(items["next_after"] == 0)
            let next = try await server.get("/v1/jobs/\(ids[0])/items?after=0").json
            #expect(next["data"]?.arrayValue?.count == 1 && next["has_more"] == false)
            #expect(try await server.get("/v1/jobs/\(ids[0])/items?status=failed").json["data"] == [])
        }
    }

    @Test func aCallerRequestIDIsEchoedAndABadOneReplaced() async throws {
        try await ServerHarness.with { server in
            let given = try await server.call(.GET, "/healthz", headers: [("X-Request-Id", "trace-42")])
            #expect(given.headers["X-Request-Id"] == ["trace-42"])
            let bad = try await server.call(.GET, "/healthz", headers: [("X-Request-Id", "has spaces")])
            #expect(bad.headers["X-Request-Id"].first?.hasPrefix("req_") == true)
        }
    }
}

extension Array where Element: Sendable {
    /// The elements as an async sequence, for streamed request bodies.
    var async: AsyncStream<Element> {
        AsyncStream { continuation in
            for element in self { continuation.yield(element) }
            continuation.finish()
        }
    }
}
