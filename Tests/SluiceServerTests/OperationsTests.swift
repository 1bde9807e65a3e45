import AsyncHTTPClient
import Foundation
import NIOCore
import SluiceCore
import SluiceServer
import Testing

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
            #expect(description.text.contains("/v1/jobs/{id}/events:"))
        }
    }

    @Test func withoutWorkersJobsAreReadAndQueuedForWorkersElsewhere() async throws {
        try await ServerHarness.with(workers: false) { server in
            let id = try #require(try await server.submit(reviewsCSV(7)).json["id"]?.stringValue)
            let queued = try await server.waitFor(id) { $0["status"] == "queued" }
            #expect(queued["counts"]?["pending"] == 7)
        }
    }

    @Test func aBatchRunsThroughTheFilesAndBatchesRoutes() async throws {
        try await ServerHarness.with { server in
            let lines =
                (0..<4).map { n in
                    #"{"custom_id": "q\#(n)", "method": "POST", "url": "/v1/chat/completions", "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Is this good? \#(n)"}]}}"#
                }.joined(separator: "\n") + "\n"
            let boundary = "b0undary"
            let form =
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"
                + "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\n\r\n\(lines)\r\n--\(boundary)--\r\n"
            let file = try await server.call(
                .POST, "/v1/files", headers: [("Content-Type", "multipart/form-data; boundary=\(boundary)")],
                body: .bytes(ByteBuffer(string: form)))
            #expect(file.status == 200)
            let fileID = try #require(file.json["id"]?.stringValue)
            #expect(file.json["bytes"] == .int(lines.utf8.count))

            let create = #"{"input_file_id": "\#(fileID)", "endpoint": "/v1/chat/completions", "completion_window": "24h"}"#
            let batch = try await server.call(
                .POST, "/v1/batches", headers: [("Content-Type", "application/json")], body: .bytes(ByteBuffer(string: create)))
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

            let wrongEndpoint = #"{"input_file_id": "\#(fileID)", "endpoint": "/v1/embeddings", "completion_window": "24h"}"#
            let refused = try await server.call(
                .POST, "/v1/batches", headers: [("Content-Type", "application/json")], body: .bytes(ByteBuffer(string: wrongEndpoint)))
            #expect(refused.status == 400)
            #expect(refused.json["error"]?["param"] == "endpoint")
            let notJSON = try await server.call(
                .POST, "/v1/batches", headers: [("Content-Type", "application/json")], body: .bytes(ByteBuffer(string: "{")))
            #expect(notJSON.status == 400)
        }
    }
}
