import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import SluiceCore
import SluiceProviders
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceEngine
@testable import SluiceServer

/// The wider batch APIs over real HTTP: embeddings and responses lines, resumable downloads,
/// idempotent creates, chunked uploads, Anthropic's Message Batches and signed webhooks.
@Suite struct BatchAPITests {
    /// `POST /v1/files` with `text` as the file, sent under `boundary`.
    func upload(
        _ server: ServerHarness, _ text: String, purpose: String = "batch", boundary: String = "b0undary", headers: [(String, String)] = [],
        fields: [(String, String)] = []
    ) async throws -> ServerHarness.Reply {
        var form = "--\(boundary)\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n\(purpose)\r\n"
        for (name, value) in fields { form += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n" }
        form +=
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\n\r\n\(text)\r\n--\(boundary)--\r\n"
        return try await server.call(
            .POST, "/v1/files", headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)")] + headers,
            body: .bytes(ByteBuffer(string: form)))
    }

    func postJSON(_ server: ServerHarness, _ path: String, _ body: JSONValue, headers: [(String, String)] = [], key: String? = nil)
        async throws -> ServerHarness.Reply
    {
        try await server.call(
            .POST, path, headers: [("Content-Type", "application/json")] + headers, key: key,
            body: .bytes(ByteBuffer(bytes: JSONWriter.bytes(body))))
    }

    func line(_ id: String, url: String, body: JSONValue) -> String {
        JSONWriter.string(["custom_id": .string(id), "method": "POST", "url": .string(url), "body": body])
    }

    /// Runs a batch of `lines` against `endpoint` and returns its object once it has ended.
    func runBatch(_ server: ServerHarness, endpoint: String, lines: [String], extra: JSONObject = JSONObject()) async throws -> JSONValue {
        let file = try await upload(server, lines.joined(separator: "\n") + "\n")
        let fileID = try #require(file.json["id"]?.stringValue)
        var body = JSONObject([("input_file_id", .string(fileID)), ("endpoint", .string(endpoint)), ("completion_window", "24h")])
        for member in extra { body[member.key] = member.value }
        let created = try await postJSON(server, "/v1/batches", .object(body))
        #expect(created.status == 200, "\(created.text)")
        let id = try #require(created.json["id"]?.stringValue)
        _ = try await server.waitFor(id, until: ServerHarness.isFinal)
        return try await server.get("/v1/batches/\(id)").json
    }

    @Test func embeddingsAndResponsesBatchesAnswerInTheirEndpointsShapes() async throws {
        try await ServerHarness.with { server in
            let embeddings = try await runBatch(
                server, endpoint: "/v1/embeddings",
                lines: [
                    line("e0", url: "/v1/embeddings", body: ["model": "text-embedding-3-small", "input": "the service was excellent"]),
                    line(
                        "e1", url: "/v1/embeddings", body: ["model": "text-embedding-3-small", "input": ["good", "bad"], "dimensions": 16]),
                ])
            #expect(embeddings["status"] == "completed")
            #expect(embeddings["endpoint"] == "/v1/embeddings")
            #expect(embeddings["model"] == "text-embedding-3-small")
            let output = try await server.get("/v1/files/\(try #require(embeddings["output_file_id"]?.stringValue))/content").text
            let lines = try output.split(separator: "\n").map { try JSONParser.parse(String($0)) }
            #expect(lines.map { $0["custom_id"] } == ["e0", "e1"])
            let first = try #require(lines[0]["response"]?["body"])
            #expect(first["object"] == "list")
            let vector = try #require(first["data"]?.arrayValue?.first?["embedding"]?.arrayValue).compactMap(\.doubleValue)
            #expect(vector == OfflineEmbedding.vector(of: "the service was excellent", dimensions: OfflineEmbedding.defaultDimensions))
            let second = try #require(lines[1]["response"]?["body"]?["data"]?.arrayValue)
            #expect(second.map { $0["index"] } == [0, 1])
            #expect(second.allSatisfy { $0["embedding"]?.arrayValue?.count == 16 }, "dimensions is honoured")

            let responses = try await runBatch(
                server, endpoint: "/v1/responses",
                lines: [
                    line(
                        "r0", url: "/v1/responses",
                        body: ["model": "gpt-4.1-mini", "input": "The food was great", "instructions": "Be brief."])
                ])
            #expect(responses["status"] == "completed")
            let reply = try JSONParser.parse(
                try await server.get("/v1/files/\(try #require(responses["output_file_id"]?.stringValue))/content").text)
            let body = try #require(reply["response"]?["body"])
            #expect(body["object"] == "response" && body["status"] == "completed")
            #expect(body["instructions"] == "Be brief.")
            let text = try #require(body["output"]?.arrayValue?.first?["content"]?.arrayValue?.first)
            #expect(text["type"] == "output_text")
            #expect(text["text"]?.stringValue?.hasPrefix("[offline]") == true)

            let mixed = try await runBatch(
                server, endpoint: "/v1/embeddings",
                lines: [line("c0", url: "/v1/chat/completions", body: ["model": "m", "messages": [["role": "user", "content": "x"]]])])
            #expect(mixed["status"] == "failed", "a line must call the batch's endpoint")
            #expect(mixed["errors"]?["data"]?.arrayValue?.first?["code"] == "invalid_url")
        }
    }

    /// Tool lines in both batch APIs, answered by the offline provider: the output line carries
    /// the call as each API writes one — chat's `tool_calls` with content null and finish reason
    /// `tool_calls`; Messages' `tool_use` block and stop reason `tool_use` — and a line whose
    /// tools forbid a call is answered in text.
    @Test func toolLinesAnswerWithTheCallsInEachAPIsShape() async throws {
        try await ServerHarness.with { server in
            let parameters: JSONValue = ["type": "object", "properties": ["city": ["type": "string"]], "required": ["city"]]
            let tools: JSONValue = [["type": "function", "function": ["name": "weather", "parameters": parameters]]]
            let chat = try await runBatch(
                server, endpoint: "/v1/chat/completions",
                lines: [
                    line(
                        "t0", url: "/v1/chat/completions",
                        body: [
                            "model": "m", "tools": tools, "tool_choice": "required", "messages": [["role": "user", "content": "Oslo?"]],
                        ]),
                    line(
                        "t1", url: "/v1/chat/completions",
                        body: ["model": "m", "tools": tools, "tool_choice": "none", "messages": [["role": "user", "content": "Oslo?"]]]),
                ])
            #expect(chat["status"] == "completed", "\(chat)")
            let output = try await server.get("/v1/files/\(try #require(chat["output_file_id"]?.stringValue))/content").text
            let lines = try output.split(separator: "\n").map { try JSONParser.parse(String($0)) }
            let called = try #require(lines.first { $0["custom_id"] == "t0" }?["response"]?["body"]?["choices"]?.arrayValue?.first)
            #expect(called["finish_reason"] == "tool_calls")
            #expect(called["message"]?["content"] == .null)
            let call = try #require(called["message"]?["tool_calls"]?.arrayValue?.first)
            #expect(call["type"] == "function" && call["function"]?["name"] == "weather")
            let arguments = try JSONParser.parse(try #require(call["function"]?["arguments"]?.stringValue))
            #expect(try OutputSchema(parameters).validate(arguments).isEmpty, "\(arguments)")
            let answered = try #require(lines.first { $0["custom_id"] == "t1" }?["response"]?["body"]?["choices"]?.arrayValue?.first)
            #expect(answered["finish_reason"] == "stop" && answered["message"]?["tool_calls"] == nil, "\(answered)")

            let responses = try await runBatch(
                server, endpoint: "/v1/responses",
                lines: [
                    line(
                        "r0", url: "/v1/responses",
                        body: [
                            "model": "m", "tools": [["type": "function", "name": "weather", "parameters": parameters]],
                            "tool_choice": "required", "input": "Oslo?",
                        ])
                ])
            let response = try JSONParser.parse(
                try await server.get("/v1/files/\(try #require(responses["output_file_id"]?.stringValue))/content").text)
            let items = try #require(response["response"]?["body"]?["output"]?.arrayValue)
            #expect(items.map { $0["type"] } == ["function_call"], "\(items)")
            #expect(items.first?["name"] == "weather" && items.first?["status"] == "completed")
            #expect(response["response"]?["body"]?["tool_choice"] == "required")

            let created = try await postJSON(
                server, "/v1/messages/batches",
                [
                    "requests": [
                        [
                            "custom_id": "m0",
                            "params": [
                                "model": "claude-haiku-4-5", "max_tokens": 64, "tools": [["name": "weather", "input_schema": parameters]],
                                "tool_choice": ["type": "any"], "messages": [["role": "user", "content": "Oslo?"]],
                            ],
                        ]
                    ]
                ])
            #expect(created.status == 200, "\(created.text)")
            let id = try #require(created.json["id"]?.stringValue)
            _ = try await server.waitFor(id, until: ServerHarness.isFinal)
            let result = try JSONParser.parse(try await server.get("/v1/messages/batches/\(id)/results").text)
            let message = try #require(result["result"]?["message"])
            #expect(message["stop_reason"] == "tool_use")
            let block = try #require(message["content"]?.arrayValue?.first)
            #expect(block["type"] == "tool_use" && block["name"] == "weather" && block["input"]?["city"]?.stringValue != nil, "\(message)")
        }
    }

    @Test func aBatchMayAskForAnyCompletionWindowFromAnHourToAWeek() async throws {
        try await ServerHarness.with { server in
            let line = line("a", url: "/v1/chat/completions", body: ["model": "builtin", "messages": [["role": "user", "content": "hi"]]])
            let fileID = try #require(try await upload(server, line + "\n").json["id"]?.stringValue)
            for (window, seconds) in [("2h", 7_200), ("7d", 604_800)] {
                let created = try await postJSON(
                    server, "/v1/batches",
                    ["input_file_id": .string(fileID), "endpoint": "/v1/chat/completions", "completion_window": .string(window)])
                #expect(created.status == 200, "\(created.text)")
                #expect(created.json["completion_window"] == .string(window))
                let createdAt = try #require(created.json["created_at"]?.intValue)
                #expect(created.json["expires_at"]?.intValue.map { $0 - createdAt } == seconds)
            }
            let refused = try await postJSON(
                server, "/v1/batches", ["input_file_id": .string(fileID), "endpoint": "/v1/chat/completions", "completion_window": "30m"])
            #expect(refused.status == 400 && refused.text.contains("from 1h to 7d"))
        }
    }

    /// Through `POST /v1/batches/{id}/retry`, or the batch job's page and its Retry button.
    @Test(arguments: [false, true]) func aFinishedBatchRetriesOnlyItsFailedLinesIntoTheSameOutput(fromThePage: Bool) async throws {
        // The line whose content is "bad" is refused the first time only.
        let picky = ScriptedProvider.refusingOnce(name: "picky", content: "bad")
        try await ServerHarness.with(providers: [picky], routes: [ModelRoute(pattern: "picky-*", provider: "picky")]) { server in
            let lines = ["a", "b", "c"].map { id in
                line(
                    id, url: "/v1/chat/completions",
                    body: ["model": "picky-1", "messages": [["role": "user", "content": .string(id == "b" ? "bad" : "good")]]])
            }
            let first = try await runBatch(server, endpoint: "/v1/chat/completions", lines: lines)
            #expect(first["request_counts"]?["failed"] == 1 && first["request_counts"]?["completed"] == 2, "\(first)")
            let id = try #require(first["id"]?.stringValue)
            var browser = Browser(server)
            if fromThePage {
                let page = try await browser.get("/jobs/\(id)")
                #expect(page.text.contains("action=\"/jobs/\(id)/retry\""), "the page offers Retry")
                let retried = try await browser.post("/jobs/\(id)/retry", [])
                #expect(retried.status == 303, "\(retried.text)")
            } else {
                let retried = try await server.call(.POST, "/v1/batches/\(id)/retry")
                #expect(retried.status == 200 && retried.json["status"] != "completed", "\(retried.text)")
            }
            _ = try await server.waitFor(id, until: ServerHarness.isFinal)
            let second = try await server.get("/v1/batches/\(id)").json
            #expect(second["request_counts"]?["failed"] == 0 && second["request_counts"]?["completed"] == 3, "\(second)")
            #expect(second["output_file_id"] == first["output_file_id"], "the same output")
            let output = try await server.get("/v1/files/\(try #require(second["output_file_id"]?.stringValue))/content").text
            let ids = output.split(separator: "\n").compactMap { try? JSONParser.parse(String($0))["custom_id"]?.stringValue }
            #expect(ids.sorted() == ["a", "b", "c"], "\(output)")
            #expect(picky.requests.count == 4, "only the failed line was sent again")
            let again = try await server.call(.POST, "/v1/batches/\(id)/retry")
            #expect(again.status == 409 && again.text.contains("no failed lines"))
            #expect(!(try await browser.get("/jobs/\(id)").text.contains("/retry\"")), "nothing left to retry")
        }
    }

    @Test func filesAndOutputsExpireAsAsked() async throws {
        try await ServerHarness.with { server in
            let refused = try await upload(
                server, "x", fields: [("expires_after[anchor]", "created_at"), ("expires_after[seconds]", "60")])
            #expect(refused.status == 400)
            #expect(refused.json["error"]?["param"] == "expires_after.seconds")
            let kept = try await upload(server, "x", fields: [("expires_after[anchor]", "created_at"), ("expires_after[seconds]", "3600")])
            let created = try #require(kept.json["created_at"]?.intValue)
            #expect(kept.json["expires_at"]?.intValue == created + 3600)
            // Expired by the clock's reckoning: moved back rather than waited for.
            let id = try #require(kept.json["id"]?.stringValue)
            var stored = try #require(try await server.store.files.file(id: id))
            _ = try await server.store.files.deleteFile(id: id)
            stored.expiresAt = Date().addingTimeInterval(-1)
            try await server.store.files.createFile(stored)
            #expect(try await server.get("/v1/files/\(id)").status == 404)
            #expect(try await server.get("/v1/files/\(id)/content").status == 404)

            let batch = try await runBatch(
                server, endpoint: "/v1/chat/completions",
                lines: [line("q", url: "/v1/chat/completions", body: ["model": "m", "messages": [["role": "user", "content": "hi"]]])],
                extra: JSONObject([("output_expires_after", ["anchor": "created_at", "seconds": 7200])]))
            let outputID = try #require(batch["output_file_id"]?.stringValue)
            let finished = try #require(batch["completed_at"]?.intValue)
            let expiresAt = try #require(try await server.get("/v1/files/\(outputID)").json["expires_at"]?.intValue)
            #expect((finished + 7199...finished + 7201).contains(expiresAt))
        }
    }

    @Test func downloadsResumeFromARange() async throws {
        try await ServerHarness.with { server in
            let text =
                (0..<50).map {
                    line(
                        "q\($0)", url: "/v1/chat/completions",
                        body: ["model": "m", "messages": [["role": "user", "content": .string("n\($0)")]]])
                }
                .joined(separator: "\n") + "\n"
            let file = try await upload(server, text)
            let id = try #require(file.json["id"]?.stringValue)
            let whole = try await server.get("/v1/files/\(id)/content")
            #expect(whole.status == 200 && whole.text == text)
            #expect(whole.headers.first(name: "accept-ranges") == "bytes")
            let etag = try #require(whole.headers.first(name: "etag"))
            #expect(etag.hasPrefix("\"") && !etag.hasPrefix("W/"), "a strong validator")
            let bytes = Array(text.utf8)
            let part = try await server.call(.GET, "/v1/files/\(id)/content", headers: [("Range", "bytes=100-199"), ("If-Range", etag)])
            #expect(part.status == 206)
            #expect(part.body == Array(bytes[100..<200]))
            #expect(part.headers.first(name: "content-range") == "bytes 100-199/\(bytes.count)")
            let rest = try await server.call(.GET, "/v1/files/\(id)/content", headers: [("Range", "bytes=200-")])
            #expect(whole.body == Array(bytes[..<200]) + rest.body, "a resumed download joins up exactly")
            let tail = try await server.call(.GET, "/v1/files/\(id)/content", headers: [("Range", "bytes=-10")])
            #expect(tail.body == Array(bytes.suffix(10)))
            let changed = try await server.call(
                .GET, "/v1/files/\(id)/content", headers: [("Range", "bytes=0-9"), ("If-Range", "\"other\"")])
            #expect(changed.status == 200 && changed.body == bytes, "another version's range gets the whole file")
            for unserved in ["bytes=20-10", "items=0-5", "bytes=0-5,10-15", "bytes=x-y", "bytes=-0x"] {
                let whole = try await server.call(.GET, "/v1/files/\(id)/content", headers: [("Range", unserved)])
                #expect(whole.status == 200 && whole.body == bytes, "a range this does not serve gets the whole file: \(unserved)")
            }
            let empty = try await server.call(.GET, "/v1/files/\(id)/content", headers: [("Range", "bytes=-0")])
            #expect(empty.status == 416, "an empty suffix is no byte at all")
            let past = try await server.call(.GET, "/v1/files/\(id)/content", headers: [("Range", "bytes=\(bytes.count)-")])
            #expect(past.status == 416)
            #expect(past.headers.first(name: "content-range") == "bytes */\(bytes.count)")

            let batchFile = try #require(file.json["id"]?.stringValue)
            let created = try await postJSON(
                server, "/v1/batches",
                ["input_file_id": .string(batchFile), "endpoint": "/v1/chat/completions", "completion_window": "24h"])
            let batchID = try #require(created.json["id"]?.stringValue)
            _ = try await server.waitFor(batchID, until: ServerHarness.isFinal)
            let outputID = try #require(try await server.get("/v1/batches/\(batchID)").json["output_file_id"]?.stringValue)
            let output = try await server.get("/v1/files/\(outputID)/content")
            let outputTag = try #require(output.headers.first(name: "etag"))
            let middle = try await server.call(
                .GET, "/v1/files/\(outputID)/content", headers: [("Range", "bytes=1000-4999"), ("If-Range", outputTag)])
            #expect(middle.status == 206)
            #expect(middle.body == Array(output.body[1000..<5000]), "an output file written on demand resumes alike")
            #expect(middle.headers.first(name: "content-range") == "bytes 1000-4999/\(output.body.count)")
        }
    }

    @Test func aRetriedCreateAnswersTheFirstOnesResult() async throws {
        try await ServerHarness.with { server in
            let text =
                line("q", url: "/v1/chat/completions", body: ["model": "m", "messages": [["role": "user", "content": "hi"]]]) + "\n"
            let key = [("Idempotency-Key", "upload-1")]
            let first = try await upload(server, text, boundary: "first", headers: key)
            let again = try await upload(server, text, boundary: "second-boundary", headers: key)
            #expect(first.status == 200 && again.status == 200)
            #expect(again.json["id"] == first.json["id"], "the same upload under another boundary is the same request")
            #expect(again.headers.first(name: "idempotent-replayed") == "true")
            #expect(try await server.get("/v1/files").json["data"]?.arrayValue?.count == 1)
            let different = try await upload(server, text + text, headers: key)
            #expect(different.status == 409 && different.errorCode == "idempotency_key_reused")
            #expect(try await server.get("/v1/files").json["data"]?.arrayValue?.count == 1, "nothing is left of a refused retry")

            let refused = try await upload(server, text, purpose: "nonsense", headers: [("Idempotency-Key", "upload-2")])
            #expect(refused.status == 400)
            let mended = try await upload(server, text, headers: [("Idempotency-Key", "upload-2")])
            #expect(mended.status == 200, "a refused create keeps no answer: its corrected retry runs")

            let fileID = try #require(first.json["id"]?.stringValue)
            let batch: JSONValue = ["input_file_id": .string(fileID), "endpoint": "/v1/chat/completions", "completion_window": "24h"]
            let batchKey = [("Idempotency-Key", "batch-1")]
            let one = try await postJSON(server, "/v1/batches", batch, headers: batchKey)
            let two = try await postJSON(server, "/v1/batches", batch, headers: batchKey)
            #expect(one.status == 200 && two.json["id"] == one.json["id"])
            #expect(try await server.get("/v1/batches").json["data"]?.arrayValue?.count == 1)
            var other = batch
            if case .object(var members) = other {
                members["metadata"] = ["note": "x"]
                other = .object(members)
            }
            #expect(try await postJSON(server, "/v1/batches", other, headers: batchKey).status == 409)
            #expect(try await postJSON(server, "/v1/batches", batch, headers: key).status == 409, "a key names one route's request")

            let job = {
                try await server.call(
                    .POST, "/v1/jobs?preset=text-classify", headers: [("Content-Type", "text/csv"), ("Idempotency-Key", "job-1")],
                    body: .bytes(ByteBuffer(string: reviewsCSV(3))))
            }
            let jobOne = try await job()
            let jobTwo = try await job()
            #expect(jobOne.status == 202 && jobTwo.status == 202)
            #expect(jobTwo.json["id"] == jobOne.json["id"])
            #expect(jobTwo.headers.first(name: "location") == jobOne.headers.first(name: "location"))
            #expect(try await server.get("/v1/jobs").json["data"]?.arrayValue?.filter { $0["id"] == jobOne.json["id"] }.count == 1)
            let badKey = try await upload(server, text, headers: [("Idempotency-Key", "has space")])
            #expect(badKey.status == 400)
        }
    }

    @Test func aChunkedUploadBecomesOneFile() async throws {
        try await ServerHarness.with { server in
            let parts = ["first part|", "second part|", "third"]
            let whole = parts.joined()
            let created = try await postJSON(
                server, "/v1/uploads",
                ["filename": "big.jsonl", "purpose": "batch", "bytes": .int(whole.utf8.count), "mime_type": "application/jsonl"])
            #expect(created.json["status"] == "pending" && created.json["object"] == "upload")
            let id = try #require(created.json["id"]?.stringValue)
            func add(_ data: String) async throws -> ServerHarness.Reply {
                let form = "--p\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n\(data)\r\n--p--\r\n"
                return try await server.call(
                    .POST, "/v1/uploads/\(id)/parts", headers: [("Content-Type", "multipart/form-data; boundary=p")],
                    body: .bytes(ByteBuffer(string: form)))
            }
            var ids: [String] = []
            // Sent out of order; the order of part_ids is the file's.
            for data in [parts[2], parts[0], parts[1]] {
                let part = try await add(data)
                #expect(part.json["object"] == "upload.part")
                ids.append(try #require(part.json["id"]?.stringValue))
            }
            #expect(try await add("one byte too many").status == 400, "parts cannot outgrow the declared size")
            let ordered = [ids[1], ids[2], ids[0]]
            let wrongMD5 = try await postJSON(
                server, "/v1/uploads/\(id)/complete", ["part_ids": .array(ordered.map(JSONValue.string)), "md5": "00"])
            #expect(wrongMD5.status == 400 && wrongMD5.json["error"]?["param"] == "md5")
            for badIDs: JSONValue in [[], [1, 2], .array([ordered[0], ordered[0]].map(JSONValue.string)), ["part_unknown"], "p"] {
                let reply = try await postJSON(server, "/v1/uploads/\(id)/complete", ["part_ids": badIDs])
                #expect(reply.status == 400 && reply.json["error"]?["param"] == "part_ids", "\(badIDs)")
            }
            let missing = try await postJSON(
                server, "/v1/uploads/\(id)/complete", ["part_ids": .array(ordered.dropLast().map(JSONValue.string))])
            #expect(missing.status == 400, "the parts must add up to the declared size")
            let md5 = Insecure.MD5.hash(data: Data(whole.utf8)).map { String(format: "%02x", $0) }.joined()
            let completed = try await postJSON(
                server, "/v1/uploads/\(id)/complete", ["part_ids": .array(ordered.map(JSONValue.string)), "md5": .string(md5)])
            #expect(completed.json["status"] == "completed", "\(completed.text)")
            let fileID = try #require(completed.json["file"]?["id"]?.stringValue)
            #expect(completed.json["file"]?["bytes"]?.intValue == whole.utf8.count)
            #expect(try await server.get("/v1/files/\(fileID)/content").text == whole)
            let again = try await postJSON(server, "/v1/uploads/\(id)/complete", ["part_ids": .array(ordered.map(JSONValue.string))])
            #expect(again.json["file"]?["id"]?.stringValue == fileID, "completing twice makes one file")
            #expect(try await add("late").status == 400)
            #expect(!FileManager.default.fileExists(atPath: server.directory.path("uploads/uploads/\(id)")), "the parts are gone")

            let other = try await postJSON(
                server, "/v1/uploads", ["filename": "x", "purpose": "batch", "bytes": 3, "mime_type": "text/plain"])
            let otherID = try #require(other.json["id"]?.stringValue)
            #expect(try await server.post("/v1/uploads/\(otherID)/cancel").json["status"] == "cancelled")
            #expect(try await postJSON(server, "/v1/uploads/\(otherID)/complete", ["part_ids": ["x"]]).status == 400)
            #expect(
                try await postJSON(server, "/v1/uploads", ["filename": "x", "purpose": "batch", "bytes": 0, "mime_type": "t"]).status == 400
            )
            let emptyExpiry: JSONValue = ["filename": "x", "purpose": "batch", "bytes": 3, "mime_type": "t", "expires_after": [:]]
            #expect(try await postJSON(server, "/v1/uploads", emptyExpiry).status == 400, "an expires_after without its members")
        }
    }

    /// The SDK sends parts of exactly the limit (64 MiB): a whole one must fit with its
    /// multipart envelope. Run at 1 MiB, so the suite does not stream 128 MiB beside the others.
    @Test func aPartMayHoldExactlyThePartLimitAsTheSDKSendsThem() async throws {
        let part = 1 << 20
        try await ServerHarness.with(maxUploadPartBytes: part) { server in
            let created = try await postJSON(
                server, "/v1/uploads", ["filename": "big", "purpose": "batch", "bytes": .int(part + 1), "mime_type": "application/jsonl"])
            let id = try #require(created.json["id"]?.stringValue)
            func add(_ bytes: Int) async throws -> Int {
                var body = ByteBuffer(string: "--p\r\nContent-Disposition: form-data; name=\"data\"; filename=\"blob\"\r\n\r\n")
                body.writeRepeatingByte(UInt8(ascii: "x"), count: bytes)
                body.writeString("\r\n--p--\r\n")
                return try await server.call(
                    .POST, "/v1/uploads/\(id)/parts", headers: [("Content-Type", "multipart/form-data; boundary=p")], body: .bytes(body)
                ).status
            }
            #expect(try await add(part + 1) == 413)
            #expect(try await add(part) == 200, "a whole part fits, envelope and all")
        }
    }

    @Test func messageBatchesSpeakAnthropic() async throws {
        try await ServerHarness.with(auth: .required) { server in
            let (secret, record) = APIKeys.make(user: "carol", isAdmin: false, now: Date())
            try await server.store.keys.createKey(record)
            let anthropic = [("x-api-key", secret), ("anthropic-version", "2023-06-01")]
            func request(_ id: String, _ text: String) -> JSONValue {
                [
                    "custom_id": .string(id),
                    "params": ["model": "claude-haiku-4-5", "max_tokens": 64, "messages": [["role": "user", "content": .string(text)]]],
                ]
            }
            let bad = try await postJSON(
                server, "/v1/messages/batches",
                [
                    "requests": [
                        request("a", "x"), ["custom_id": "b", "params": ["model": "c", "messages": [["role": "user", "content": "x"]]]],
                    ]
                ],
                headers: anthropic)
            #expect(bad.status == 400)
            #expect(bad.json["type"] == "error" && bad.json["error"]?["type"] == "invalid_request_error")
            #expect(bad.json["error"]?["message"]?.stringValue?.hasPrefix("requests.1.params.max_tokens") == true, "\(bad.text)")
            let duplicate = try await postJSON(
                server, "/v1/messages/batches", ["requests": [request("a", "x"), request("a", "y")]], headers: anthropic)
            #expect(duplicate.status == 400)

            let created = try await postJSON(
                server, "/v1/messages/batches", ["requests": [request("one", "I love it"), request("two", "I hate it")]], headers: anthropic
            )
            #expect(created.status == 200, "\(created.text)")
            #expect(created.json["type"] == "message_batch" && created.json["processing_status"] == "in_progress")
            #expect(created.json["request_counts"]?["processing"] == 2, "counts are live from the start")
            let id = try #require(created.json["id"]?.stringValue)
            let ended = try await waitForChange(of: server.store, what: "the message batch to end") {
                let batch = try await server.call(.GET, "/v1/messages/batches/\(id)", headers: anthropic).json
                return batch["processing_status"] == "ended" ? batch : JSONValue?.none
            }
            #expect(ended["request_counts"] == ["processing": 0, "succeeded": 2, "errored": 0, "canceled": 0, "expired": 0])
            let resultsURL = try #require(ended["results_url"]?.stringValue)
            #expect(resultsURL == server.baseURL + "/v1/messages/batches/\(id)/results")
            let results = try await server.call(.GET, "/v1/messages/batches/\(id)/results", headers: anthropic).text
                .split(separator: "\n").map { try JSONParser.parse(String($0)) }
            #expect(results.map { $0["custom_id"] } == ["one", "two"])
            #expect(results.allSatisfy { $0["result"]?["type"] == "succeeded" && $0["result"]?["message"]?["role"] == "assistant" })

            let list = try await server.call(.GET, "/v1/messages/batches?limit=1", headers: anthropic).json
            #expect(list["data"]?.arrayValue?.count == 1 && list["first_id"] == .string(id) && list["has_more"] == false)
            #expect(try await server.get("/v1/batches", key: secret).json["data"]?.arrayValue?.isEmpty == true, "not an OpenAI batch")
            let missing = try await server.call(.GET, "/v1/messages/batches/msgbatch_none", headers: anthropic)
            #expect(missing.status == 404 && missing.json["error"]?["type"] == "not_found_error")
            let unauthenticated = try await server.call(.GET, "/v1/messages/batches", headers: [("x-api-key", "wrong")])
            #expect(unauthenticated.status == 401 && unauthenticated.json["error"]?["type"] == "authentication_error")

            let deleted = try await server.call(.DELETE, "/v1/messages/batches/\(id)", headers: anthropic)
            #expect(deleted.json == ["id": .string(id), "type": "message_batch_deleted"])
            #expect(try await server.call(.GET, "/v1/messages/batches/\(id)", headers: anthropic).status == 404)
        }
    }

    @Test func aMessageBatchRefusesEarlyResultsAndDeletesAndCancels() async throws {
        // No workers: the batch stays in progress until it is cancelled.
        try await ServerHarness.with(workers: false) { server in
            let created = try await postJSON(
                server, "/v1/messages/batches",
                [
                    "requests": [
                        ["custom_id": "wait", "params": ["model": "m", "max_tokens": 5, "messages": [["role": "user", "content": "x"]]]]
                    ]
                ])
            let id = try #require(created.json["id"]?.stringValue)
            #expect(created.json["results_url"] == .null)
            let early = try await server.get("/v1/messages/batches/\(id)/results")
            #expect(early.status == 400 && early.json["error"]?["type"] == "invalid_request_error")
            #expect(try await server.call(.DELETE, "/v1/messages/batches/\(id)").status == 400)
            let cancelled = try await server.post("/v1/messages/batches/\(id)/cancel").json
            #expect(cancelled["processing_status"] == "ended", "nothing was in flight, so the cancel ends it at once")
            #expect(cancelled["request_counts"]?["canceled"] == 1)
            let results = try await server.get("/v1/messages/batches/\(id)/results").json
            #expect(results == ["custom_id": "wait", "result": ["type": "canceled"]])
        }
    }

    @Test func webhooksAreSignedRetriedAndVisible() async throws {
        let settings = WebhookSettings(allowPrivateTargets: true, retrySeconds: [0.05, 0.05, 0.05])
        try await WebhookReceiver.with(failFirst: [503, 500]) { receiver, url in
            try await ServerHarness.with(webhooks: settings) { server in
                let refused = try await postJSON(server, "/v1/webhooks", ["url": .string(url), "events": ["batch.done"]])
                #expect(refused.status == 400 && refused.json["error"]?["param"] == "events")
                for (bad, param) in [
                    (["url": .string(url), "events": []], "events"), (["url": .string(url)], "events"),
                    (["url": .string(url), "events": ["batch.completed"], "secret": "mine"], "secret"),
                    (["url": .string("http://127.0.0.1/" + String(repeating: "a", count: 2048)), "events": ["batch.completed"]], "url"),
                    (["url": 7, "events": ["batch.completed"]], "url"),
                ] as [(JSONValue, String)] {
                    let reply = try await postJSON(server, "/v1/webhooks", bad)
                    #expect(reply.status == 400 && reply.json["error"]?["param"] == .string(param), "\(bad)")
                }
                let created = try await postJSON(
                    server, "/v1/webhooks", ["url": .string(url), "events": ["batch.completed", "job.completed"]])
                #expect(created.status == 200, "\(created.text)")
                let secret = try #require(created.json["secret"]?.stringValue)
                #expect(secret.hasPrefix("whsec_"))
                let endpointID = try #require(created.json["id"]?.stringValue)
                #expect(try await server.get("/v1/webhooks/\(endpointID)").json["secret"] == nil, "the secret is shown once")

                let batch = try await runBatch(
                    server, endpoint: "/v1/chat/completions",
                    lines: [line("q", url: "/v1/chat/completions", body: ["model": "m", "messages": [["role": "user", "content": "hi"]]])])
                let batchID = try #require(batch["id"]?.stringValue)
                try await waitUntil("the third try to arrive", signalledBy: receiver.arrivals) { receiver.received.count >= 3 }
                let tries = receiver.received
                #expect(tries.count == 3, "two failures, then delivered, then nothing more")
                #expect(Set(tries.map { $0.headers["webhook-id"] ?? "" }).count == 1, "every try carries the same webhook-id")
                for delivery in tries {
                    let id = try #require(delivery.headers["webhook-id"])
                    let timestamp = try #require(delivery.headers["webhook-timestamp"])
                    let key = SymmetricKey(data: try #require(Data(base64Encoded: String(secret.dropFirst("whsec_".count)))))
                    let mac = HMAC<SHA256>.authenticationCode(for: Data("\(id).\(timestamp).\(delivery.body)".utf8), using: key)
                    #expect(delivery.headers["webhook-signature"] == "v1," + Data(mac).base64EncodedString())
                }
                let event = try JSONParser.parse(tries[0].body)
                #expect(event["type"] == "batch.completed" && event["object"] == "event")
                #expect(event["data"]?["id"] == .string(batchID))

                var deliveries = JSONValue.null
                try await waitUntil("the delivery to be recorded as delivered", signalledBy: server.store.commits) {
                    deliveries = try await server.get("/v1/webhooks/\(endpointID)/deliveries").json
                    return deliveries["data"]?.arrayValue?.first?["status"] == "delivered"
                }
                let attempts = try #require(deliveries["data"]?.arrayValue?.first?["attempts"]?.arrayValue)
                #expect(attempts.map { $0["status_code"] } == [503, 500, 200])
                let scrape = try await server.get("/metrics").text
                #expect(metricValue(scrape, #"sluice_webhook_tries_total{outcome="retrying"}"#) == 2)
                #expect(metricValue(scrape, #"sluice_webhook_tries_total{outcome="delivered"}"#) == 1)

                #expect(try await server.call(.DELETE, "/v1/webhooks/\(endpointID)").json["deleted"] == true)
                #expect(try await server.get("/v1/webhooks").json["data"]?.arrayValue?.isEmpty == true)
            }
        }
    }

    @Test func anEndpointThatHangsHoldsUpOnlyItsOwnDeliveries() async throws {
        // A try may take five minutes: were deliveries tried in rounds, the second job's event
        // would wait behind the first one's hung try.
        let settings = WebhookSettings(allowPrivateTargets: true, retrySeconds: [1], timeoutSeconds: 300)
        try await WebhookReceiver.with(hangs: true) { hanging, hangingURL in
            try await WebhookReceiver.with { prompt, promptURL in
                try await ServerHarness.with(webhooks: settings) { server in
                    var endpoints: [String] = []
                    for url in [hangingURL, promptURL] {
                        let created = try await postJSON(server, "/v1/webhooks", ["url": .string(url), "events": ["job.completed"]])
                        endpoints.append(try #require(created.json["id"]?.stringValue))
                    }
                    let first = try #require(try await server.submit(reviewsCSV(1)).json["id"]?.stringValue)
                    try await waitUntil("the first event at the hanging endpoint", signalledBy: hanging.arrivals) {
                        hanging.received.count == 1
                    }
                    let second = try #require(try await server.submit(reviewsCSV(1)).json["id"]?.stringValue)
                    try await waitUntil("both events at the prompt endpoint", signalledBy: prompt.arrivals) { prompt.received.count == 2 }
                    let subjects = try prompt.received.map { try JSONParser.parse($0.body)["data"]?["id"]?.stringValue }
                    #expect(Set(subjects) == [first, second])
                    let hung = try #require(try await server.get("/v1/webhooks/\(endpoints[0])/deliveries").json["data"]?.arrayValue)
                    #expect(hung.allSatisfy { $0["status"] == "pending" && $0["attempts"] == [] }, "its tries still hang")
                }
            }
        }
    }

    @Test func webhookTargetsInsideTheNetworkAreRefused() async throws {
        try await ServerHarness.with { server in
            for url in [
                "http://127.0.0.1:8080/hook", "http://localhost/hook", "http://10.1.2.3/x", "http://[::1]/x", "ftp://example.com/x",
                "http://user:pw@example.com/", "https://Ï", "http://example.com/a b",
            ] {
                let reply = try await postJSON(server, "/v1/webhooks", ["url": .string(url), "events": ["batch.completed"]])
                #expect(reply.status == 400 && reply.json["error"]?["param"] == "url", "\(url)")
            }
        }
        for address in [
            "127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "fe80::1", "fd00::1",
            "::ffff:127.0.0.1", "224.0.0.1",
        ] {
            #expect(WebhookTarget.isPrivate(address), "\(address)")
        }
        for address in ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "172.32.0.1"] {
            #expect(!WebhookTarget.isPrivate(address), "\(address)")
        }
    }
}
