import AsyncHTTPClient
import Foundation
import NIOHTTP1
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing

/// What clients see when the store fails under a running server: a real failure (a table
/// renamed away, so statements fail with the driver's own text and SQL), and the server's answer
/// must carry none of it — only that something failed, and the request id to quote.
@Suite struct FailureTests {
    /// Words of SQL, of either driver's errors, and of file paths.
    static let internals = [
        "SELECT", "FROM", "items_away", "no such table", "does not exist", "SQLite", "SQLITE", "PSQL", "relation", "/tmp/",
        "sluice.sqlite", "error 1",
    ]

    @Test func aFailingStoreIsNeverDescribedToTheClient() async throws {
        try await ServerHarness.with(workers: false) { server in
            let id = try #require(try await server.submit(reviewsCSV(3)).json["id"]?.stringValue)
            _ = try await server.waitFor(id) { $0["status"] == "queued" }
            try await server.fixture.renameTable("items", to: "items_away")
            for path in ["/v1/jobs/\(id)/items", "/v1/jobs/\(id)/results?format=jsonl", "/jobs/\(id)"] {
                let reply = try await server.get(path)
                #expect(reply.status == 503, "\(path): \(reply.status) \(reply.text)")
                for word in Self.internals { #expect(!reply.text.contains(word), "\(path) says \(word): \(reply.text)") }
                let requestID = try #require(reply.headers["X-Request-Id"].first)
                #expect(reply.text.contains(requestID), "\(path) does not name its request")
            }
            let api = try await server.get("/v1/jobs/\(id)/items")
            #expect(api.errorCode == "database_unavailable")
            #expect(api.json["error"]?["request_id"]?.stringValue == api.headers["X-Request-Id"].first)
            #expect(api.json["error"]?["type"] == "server_error")
            try await server.fixture.renameTable("items_away", to: "items")
            #expect(try await server.get("/v1/jobs/\(id)/items").status == 200)
        }
    }

    @Test func readinessSaysReadyOrNotAndNothingMore() async throws {
        try await ServerHarness.with(workers: false) { server in
            #expect(try await server.get("/readyz").json == ["status": "ready"])
            try await server.fixture.renameTable(server.fixture.migrationsTable, to: "migrations_away")
            let reply = try await server.get("/readyz")
            #expect(reply.status == 503)
            #expect(reply.json == ["status": "not_ready"], "\(reply.text)")
            try await server.fixture.renameTable("migrations_away", to: server.fixture.migrationsTable)
            #expect(try await server.get("/readyz").json == ["status": "ready"])
        }
    }

    @Test func anUploadReadWhileTheStoreFailsWaitsAndIsReadOnceItMends() async throws {
        try await ServerHarness.with { server in
            try await server.fixture.renameTable("items", to: "items_away")
            let id = try #require(try await server.submit(reviewsCSV(25)).json["id"]?.stringValue)
            try await waitUntil("the ingest to fail twice") {
                let scrape = try await server.get("/metrics").text
                return (metricValue(scrape, #"sluice_failed_rounds_total{loop="ingest"}"#) ?? 0) >= 2
            }
            let waiting = try await server.get("/v1/jobs/\(id)").json
            #expect(waiting["status"] == "validating", "a database failure is not the upload's fault: \(waiting)")
            #expect(waiting["errors"]?.arrayValue?.isEmpty ?? true)
            try await server.fixture.renameTable("items_away", to: "items")
            let done = try await server.waitFor(id, until: ServerHarness.isFinal)
            #expect(done["status"] == "completed")
            #expect(done["counts"]?["succeeded"] == 25)
        }
    }
}
