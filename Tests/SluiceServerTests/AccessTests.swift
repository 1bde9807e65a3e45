import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SluiceCore
import SluiceServer
import SluiceStore
import Testing

/// Who may do what: API keys, ownership, the per-key request budget, CORS.
@Suite struct AccessTests {
    @Test func theAuthorisationMatrix() async throws {
        try await ServerHarness.with(auth: .required) { server in
            let now = Date()
            var keys: [String: String] = [:]
            for (user, admin) in [("alice", false), ("bob", false), ("root", true), ("gone", false)] {
                let (secret, record) = APIKeys.make(user: user, isAdmin: admin, now: now)
                try await server.store.keys.createKey(record)
                keys[user] = secret
                if user == "gone" { _ = try await server.store.keys.revokeKey(id: record.id, now: now) }
            }
            let alice = keys["alice"]!
            let bob = keys["bob"]!
            let root = keys["root"]!

            let noKey = try await server.submit(reviewsCSV(2))
            #expect(noKey.status == 401)
            #expect(noKey.headers["WWW-Authenticate"] == ["Bearer"])
            #expect(try await server.get("/v1/jobs", key: "sk-sluice-made-up").status == 401)
            let revoked = try await server.get("/v1/jobs", key: keys["gone"])
            #expect(revoked.status == 401)
            #expect(revoked.json["error"]?["message"] == "the API key has been revoked")

            let created = try await server.submit(reviewsCSV(2), key: alice)
            #expect(created.status == 202)
            let id = try #require(created.json["id"]?.stringValue)
            #expect(try await server.store.job(id: id)?.owner == "alice")

            // The owner sees and controls it; another user gets 404 everywhere; an admin sees all.
            for path in ["/v1/jobs/\(id)", "/v1/jobs/\(id)/items", "/v1/jobs/\(id)/results", "/v1/jobs/\(id)/events"] {
                #expect(try await server.get(path, key: bob).status == 404, "\(path)")
            }
            #expect(try await server.post("/v1/jobs/\(id)/cancel", key: bob).status == 404)
            #expect(try await server.call(.DELETE, "/v1/jobs/\(id)", key: bob).status == 404)
            _ = try await server.waitFor(id, key: alice, until: ServerHarness.isFinal)
            #expect(try await server.get("/v1/jobs/\(id)", key: alice).status == 200)
            #expect(try await server.get("/v1/jobs/\(id)", key: root).status == 200)
            #expect(try await server.get("/v1/jobs", key: bob).json["data"] == [])
            #expect(try await server.get("/v1/jobs", key: root).json["data"]?.arrayValue?.count == 1)

            // Probes and metrics need no key.
            #expect(try await server.get("/healthz").status == 200)
            #expect(try await server.get("/metrics").status == 200)
        }
    }

    @Test func aServerOpenToTheNetworkIsRefused() throws {
        let open = ServerConfiguration(host: "0.0.0.0", auth: .off, uploadDirectory: "/tmp/x")
        #expect(throws: ServerConfigurationError.self) { try open.validate() }
        #expect(ServerConfiguration(host: "0.0.0.0", uploadDirectory: "/tmp/x").auth == .required)
        #expect(ServerConfiguration(host: "127.0.0.1", uploadDirectory: "/tmp/x").auth == .off)
    }

    @Test func aKeyOverItsBudgetGets429WithRetryAfter() async throws {
        // One a minute after a burst of five: however slow the machine, the sixth is refused.
        try await ServerHarness.with(requestsPerMinute: 1) { server in
            var statuses: [Int] = []
            for _ in 0..<6 { statuses.append(try await server.get("/v1/jobs").status) }
            #expect(statuses == [200, 200, 200, 200, 200, 429])
            let refused = try await server.get("/v1/jobs")
            let wait = try #require(refused.headers["Retry-After"].first.flatMap { Int($0) })
            #expect((1...60).contains(wait))
            #expect(refused.errorCode == "rate_limit_exceeded")
        }
    }

    @Test func corsHeadersOnlyForConfiguredOrigins() async throws {
        try await ServerHarness.with(corsOrigins: ["https://app.example"]) { server in
            let allowed = try await server.call(.GET, "/v1/jobs", headers: [("Origin", "https://app.example")])
            #expect(allowed.headers["Access-Control-Allow-Origin"] == ["https://app.example"])
            let preflight = try await server.call(
                .OPTIONS, "/v1/jobs", headers: [("Origin", "https://app.example"), ("Access-Control-Request-Method", "POST")])
            #expect(preflight.status == 204)
            #expect(preflight.headers["Access-Control-Allow-Methods"].first?.contains("POST") == true)
            let other = try await server.call(.GET, "/v1/jobs", headers: [("Origin", "https://evil.example")])
            #expect(other.headers["Access-Control-Allow-Origin"].isEmpty)
        }
        try await ServerHarness.with { server in
            let reply = try await server.call(.GET, "/v1/jobs", headers: [("Origin", "https://app.example")])
            #expect(reply.headers["Access-Control-Allow-Origin"].isEmpty, "CORS is off unless origins are configured")
        }
    }
}
