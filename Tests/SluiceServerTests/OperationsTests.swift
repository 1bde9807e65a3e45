import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SluiceCore
import SluiceServer
import SluiceStorage
import SluiceStore
import SluiceTestSupport
import Testing
import Yams

@Suite struct OperationsTests {
    @Test func probesMetricsAndTheAPIDescription() async throws {
        try await ServerHarness.with { server in
            #expect(try await server.get("/healthz").json == ["status": "ok"])
            #expect(try await server.get("/readyz").json == ["status": "ready"])
            let id = try #require(try await server.submit(reviewsCSV(5)).json["id"]?.stringValue)
            _ = try await server.waitFor(id, until: ServerHarness.isFinal)
            let metrics = try await server.get("/metrics")
            #expect(metrics.headers["Content-Type"].first?.hasPrefix("text/plain") == true)
            let text = metrics.text
            #expect(text.contains(#"sluice_jobs{status="completed"}"#))
            #expect(text.contains("sluice_queue_depth"))
            #expect(text.contains(#"sluice_provider_calls_total{provider="builtin",outcome="succeeded"}"#))
            #expect(text.contains("sluice_provider_call_duration_seconds_bucket"))
            #expect(text.contains("sluice_limiter_wait_seconds"))
            #expect(text.contains(#"sluice_items_total{outcome="succeeded"}"#))
            let description = try await server.get("/openapi.yaml")
            #expect(description.status == 200)
            #expect(description.text.hasPrefix("openapi: 3."))
            // The whole document is YAML a tool can load, and describes what the server answers.
            let document = try #require(try Yams.load(yaml: description.text) as? [String: Any])
            let paths = try #require(document["paths"] as? [String: Any])
            #expect(paths["/v1/jobs/{id}/events"] != nil && paths["/readyz"] != nil)
        }
    }

    @Test func withoutWorkersJobsAreReadAndQueuedForWorkersElsewhere() async throws {
        try await ServerHarness.with(workers: false) { server in
            let id = try #require(try await server.submit(reviewsCSV(7)).json["id"]?.stringValue)
            let queued = try await server.waitFor(id) { $0["status"] == "queued" }
            #expect(queued["counts"]?["pending"] == 7)
        }
    }

    @Test func aBatchPastItsWindowExpiresWithItsRequestsInTheErrorFile() async throws {
        try await ServerHarness.with(workers: false) { server in
            let fileID = try #require(try await server.uploadBatchFile(lines: 3).json["id"]?.stringValue)
            let batch = try await server.createBatch(fileID: fileID).json
            let batchID = try #require(batch["id"]?.stringValue)
            #expect(batch["expires_at"]?.intValue == batch["created_at"]?.intValue.map { $0 + 86_400 })
            _ = try await server.waitFor(batchID) { $0["status"] == "queued" }
            #expect(try await server.store.expireOverdueJobs(now: Date().addingTimeInterval(86_401)) == [batchID])
            let expired = try await server.get("/v1/batches/\(batchID)").json
            #expect(expired["status"] == "expired")
            #expect(expired["expired_at"] != .null)
            #expect(expired["request_counts"] == ["total": 3, "completed": 0, "failed": 3])
            #expect(expired["output_file_id"] == .null)
            let errorFile = try #require(expired["error_file_id"]?.stringValue)
            let lines = try await server.get("/v1/files/\(errorFile)/content").text.split(separator: "\n")
            #expect(lines.count == 3)
            #expect(lines.allSatisfy { $0.contains(#""code":"batch_expired""#) })
        }
    }

    @Test func badFilesAndBatchRequestsAreRefusedWithTheirReason() async throws {
        try await ServerHarness.with { server in
            func upload(purpose: String?, files: Int = 1) async throws -> ServerHarness.Reply {
                var form = purpose.map { "--b\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n\($0)\r\n" } ?? ""
                for n in 0..<files { form += "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(n).jsonl\"\r\n\r\n{}\r\n" }
                return try await server.call(
                    .POST, "/v1/files", headers: [("Content-Type", "multipart/form-data; boundary=b")],
                    body: .bytes(ByteBuffer(string: form + "--b--\r\n")))
            }
            #expect(try await upload(purpose: nil).json["error"]?["param"] == "purpose")
            #expect(try await upload(purpose: "nope").json["error"]?["param"] == "purpose")
            #expect(try await upload(purpose: "batch", files: 0).json["error"]?["param"] == "file")
            #expect(try await upload(purpose: "batch", files: 2).json["error"]?["param"] == "file")
            let notForm = try await server.call(
                .POST, "/v1/files", headers: [("Content-Type", "application/json")], body: .bytes(ByteBuffer(string: "{}")))
            #expect(notForm.status == 415)
            #expect(try await server.store.files.files(owner: nil, purpose: nil, after: nil, limit: 10, oldestFirst: false).isEmpty)
            #expect(try await server.get("/v1/files?order=sideways").status == 400)

            let assistants = try #require(try await upload(purpose: "assistants").json["id"]?.stringValue)
            let batchFile = try #require(try await server.uploadBatchFile(lines: 1).json["id"]?.stringValue)
            func refusal(_ body: String) async throws -> JSONValue? {
                let reply = try await server.createBatch(fileID: batchFile, body: body)
                #expect(reply.status == 400, "\(body)")
                return reply.json["error"]?["param"]
            }
            #expect(try await refusal(#"{"endpoint": "/v1/chat/completions", "completion_window": "24h"}"#) == "input_file_id")
            #expect(try await refusal(#"{"input_file_id": "\#(batchFile)", "completion_window": "24h"}"#) == "endpoint")
            #expect(
                try await refusal(#"{"input_file_id": "\#(batchFile)", "endpoint": "/v1/chat/completions", "completion_window": "8d"}"#)
                    == "completion_window")
            let tooMuch = (0..<17).map { #""k\#($0)": "v""# }.joined(separator: ", ")
            #expect(
                try await refusal(
                    #"{"input_file_id": "\#(batchFile)", "endpoint": "/v1/chat/completions", "completion_window": "24h", "metadata": {\#(tooMuch)}}"#
                )
                    == "metadata")
            #expect(
                try await refusal(
                    #"{"input_file_id": "\#(batchFile)", "endpoint": "/v1/chat/completions", "completion_window": "24h", "metadata": {"n": 1}}"#
                )
                    == "metadata")
            #expect(
                try await refusal(#"{"input_file_id": "\#(assistants)", "endpoint": "/v1/chat/completions", "completion_window": "24h"}"#)
                    == "input_file_id")
            #expect(try await refusal("[1]") == .null, "not an object: no parameter to blame")
            #expect(try await server.store.jobs(JobQuery(owner: nil, limit: 10)).isEmpty)
        }
    }

    @Test func aBatchRunsThroughTheFilesAndBatchesRoutes() async throws {
        try await ServerHarness.with { server in
            let file = try await server.uploadBatchFile(lines: 4)
            #expect(file.status == 200)
            let fileID = try #require(file.json["id"]?.stringValue)
            #expect(file.json["purpose"] == "batch")
            let batch = try await server.createBatch(fileID: fileID)
            #expect(batch.status == 200)
            let batchID = try #require(batch.json["id"]?.stringValue)
            let done = try await server.waitFor(batchID, until: ServerHarness.isFinal)
            #expect(done["status"] == "completed", "a batch is a job too")
            let object = try await server.get("/v1/batches/\(batchID)").json
            #expect(object["status"] == "completed")
            #expect(object["request_counts"] == ["total": 4, "completed": 4, "failed": 0])
            let outputID = try #require(object["output_file_id"]?.stringValue)
            let output = try await server.get("/v1/files/\(outputID)/content").text.split(separator: "\n")
            #expect(output.count == 4)
            let first = try JSONParser.parse(String(output[0]))
            #expect(first["custom_id"] == "q0")
            #expect(first["response"]?["body"]?["object"] == "chat.completion")
            #expect(try await server.get("/v1/files/\(outputID)").json["bytes"]?.intValue == output.reduce(0) { $0 + $1.utf8.count + 1 })

            let refused = try await server.createBatch(
                fileID: fileID, body: #"{"input_file_id": "\#(fileID)", "endpoint": "/v1/completions", "completion_window": "24h"}"#)
            #expect(refused.status == 400)
            #expect(refused.json["error"]?["param"] == "endpoint")
            let notJSON = try await server.createBatch(fileID: fileID, body: "{")
            #expect(notJSON.status == 400)
        }
    }

    @Test(.enabled(if: TestBucket.isAvailable, "needs SLUICE_TEST_S3 (scripts/test.sh starts moto)"))
    func uploadsKeptInABucketServeFilesBatchesAndJobs() async throws {
        try await ServerHarness.with(storage: { try TestBucket.storage(in: $0) }) { server in
            let file = try await server.uploadBatchFile(lines: 3)
            #expect(file.status == 200)
            let fileID = try #require(file.json["id"]?.stringValue)
            let stored = try #require(try await server.store.files.file(id: fileID))
            #expect(stored.path.hasPrefix("s3://"), "kept in the bucket: \(stored.path)")
            let content = try await server.get("/v1/files/\(fileID)/content")
            #expect(content.text.split(separator: "\n").count == 3)
            #expect(content.text.hasPrefix(#"{"custom_id": "q0""#))

            let batch = try #require(try await server.createBatch(fileID: fileID).json["id"]?.stringValue)
            // The batch has its own copy: deleting the file does not starve it.
            #expect(try await server.call(.DELETE, "/v1/files/\(fileID)").status == 200)
            let done = try await server.waitFor(batch, until: ServerHarness.isFinal)
            #expect(done["status"] == "completed")
            #expect(done["counts"]?["succeeded"] == 3)

            let job = try await server.submitForm(fields: [("preset", "text-classify")], files: [("r.csv", "id,text\n1,great\n2,awful\n")])
            #expect(job.status == 202)
            let jobID = try #require(job.json["id"]?.stringValue)
            let finished = try await server.waitFor(jobID, until: ServerHarness.isFinal)
            #expect(finished["status"] == "completed")
            #expect(finished["counts"]?["succeeded"] == 2)
        }
    }
}
