import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SluiceCore
import SluiceServer
import SluiceStore
import SluiceTestSupport
import Testing

@Suite struct ControlAPITests {
    static let gatedQuery = "template=%7B%7Btext%7D%7D&provider=gated&batch_size=4"

    @Test func resultsArePartialWhileTheJobRuns() async throws {
        let gate = GatedProvider()
        try await ServerHarness.with(providers: [gate]) { server in
            let id = try #require(try await server.submit(reviewsCSV(20), query: Self.gatedQuery).json["id"]?.stringValue)
            await gate.waitForStarts(1)
            let running = try await server.get("/v1/jobs/\(id)").json
            #expect(running["status"] == "running")
            let partial = try await server.get("/v1/jobs/\(id)/results?format=jsonl").text.split(separator: "\n")
            #expect(partial.count == 20, "every item is listed, finished or not")
            #expect(partial.contains { $0.contains(#""status":"pending""#) || $0.contains(#""status":"running""#) })
            gate.open()
            let done = try await server.waitFor(id, until: ServerHarness.isFinal)
            #expect(done["status"] == "completed")
        }
    }

    @Test func pauseResumeAndCancelFollowTheLifeCycle() async throws {
        let gate = GatedProvider()
        try await ServerHarness.with(providers: [gate]) { server in
            let id = try #require(try await server.submit(reviewsCSV(40), query: Self.gatedQuery).json["id"]?.stringValue)
            await gate.waitForStarts(1)
            let paused = try await server.post("/v1/jobs/\(id)/pause")
            #expect(paused.status == 200)
            #expect(paused.json["status"] == "paused")
            let zeroCap = try await server.call(.POST, "/v1/jobs/\(id)/resume", body: .bytes(Array(#"{"max_reply_tokens": 0}"#.utf8)))
            #expect(zeroCap.status == 400 && zeroCap.text.contains("max_reply_tokens must be an integer from 1"))
            #expect(try await server.get("/v1/jobs/\(id)").json["status"] == "paused", "a refused resume changes nothing")
            let resumed = try await server.call(.POST, "/v1/jobs/\(id)/resume", body: .bytes(Array(#"{"max_reply_tokens": 65536}"#.utf8)))
            #expect(resumed.json["status"] == "running" && resumed.json["max_reply_tokens"] == 65536)
            let cancelled = try await server.post("/v1/jobs/\(id)/cancel")
            #expect(cancelled.json["status"] == "cancelling" || cancelled.json["status"] == "cancelled")
            gate.open()
            let done = try await server.waitFor(id, until: ServerHarness.isFinal)
            #expect(done["status"] == "cancelled")
            #expect((done["counts"]?["cancelled"]?.intValue ?? 0) > 0)
            let again = try await server.post("/v1/jobs/\(id)/pause")
            #expect(again.status == 409)
            #expect(again.errorCode == "conflict")
            #expect(try await server.post("/v1/jobs/job_missing/cancel").status == 404)
        }
    }

    /// An admin changes a running job's priority; its owner, not an admin, may not.
    @Test func anAdminChangesAJobsPriorityAndAUserMayNot() async throws {
        try await ServerHarness.with(auth: .required, workers: false) { server in
            let (userKey, user) = APIKeys.make(user: "ann", isAdmin: false, now: Date())
            let (adminKey, admin) = APIKeys.make(user: "boss", isAdmin: true, now: Date())
            try await server.store.keys.createKey(user)
            try await server.store.keys.createKey(admin)
            let created = try await server.submit(reviewsCSV(5), query: "preset=text-classify&priority=low", key: userKey)
            let id = try #require(created.json["id"]?.stringValue, "\(created.text)")
            #expect(created.json["priority"] == "low")
            let body = HTTPClientRequest.Body.bytes(Array(#"{"priority": "high"}"#.utf8))
            let refused = try await server.call(.POST, "/v1/jobs/\(id)/priority", key: userKey, body: body)
            #expect(refused.status == 403 && refused.text.contains("only an admin"))
            let bad = try await server.call(
                .POST, "/v1/jobs/\(id)/priority", key: adminKey, body: .bytes(Array(#"{"priority": "urgent"}"#.utf8)))
            #expect(bad.status == 400)
            let changed = try await server.call(.POST, "/v1/jobs/\(id)/priority", key: adminKey, body: body)
            #expect(changed.status == 200 && changed.json["priority"] == "high")
            #expect(try await server.get("/v1/jobs/\(id)", key: userKey).json["priority"] == "high", "read back from the column")
        }
    }

    @Test func usageReportsEachUsersSpendingAndAQuotaPausesAKeysJob() async throws {
        let provider = ScriptedProvider(name: "metered") { _, _ throws(ProviderFailure) in "fine" }
        try await ServerHarness.with(auth: .required, providers: [provider]) { server in
            let (annKey, ann) = APIKeys.make(user: "ann", isAdmin: false, now: Date())
            var (bobKey, bob) = APIKeys.make(user: "bob", isAdmin: false, now: Date())
            bob.quota = KeyQuota(tokensPerDay: 30)
            let (adminKey, admin) = APIKeys.make(user: "boss", isAdmin: true, now: Date())
            for key in [ann, bob, admin] { try await server.store.keys.createKey(key) }
            let query = "template=%7B%7Btext%7D%7D&provider=metered&batch_size=1"
            let annJob = try #require(try await server.submit(reviewsCSV(6), query: query, key: annKey).json["id"]?.stringValue)
            let done = try await server.waitFor(annJob, key: annKey, until: ServerHarness.isFinal)
            // bob's key may spend 30 tokens a day; each call spends 15: his job pauses, saying why.
            let bobJob = try #require(try await server.submit(reviewsCSV(40), query: query, key: bobKey).json["id"]?.stringValue)
            let paused = try await server.waitFor(bobJob, key: bobKey) { $0["status"] == "paused" }
            #expect(paused["status_reason"]?.stringValue?.hasPrefix("quota:") == true, "\(paused)")
            #expect((paused["counts"]?["succeeded"]?.intValue ?? 99) < 40)

            let mine = try await server.get("/v1/usage", key: annKey)
            #expect(mine.status == 200, "\(mine.text)")
            let rows = mine.json["data"]?.arrayValue ?? []
            #expect(!rows.isEmpty && rows.allSatisfy { $0["user"] == "ann" && $0["provider"] == "metered" && $0["model"] == "scripted-1" })
            let tokens = { (value: JSONValue?) in (value?["prompt_tokens"]?.intValue ?? 0) + (value?["completion_tokens"]?.intValue ?? 0) }
            #expect(tokens(mine.json["total"]) == tokens(done["usage"]), "the ledger adds up to the job: \(mine.text) \(done)")
            #expect(mine.json["total"]?["calls"]?.intValue == 6)

            let everyone = try await server.get("/v1/usage", key: adminKey).json
            #expect(Set((everyone["data"]?.arrayValue ?? []).compactMap { $0["user"]?.stringValue }) == ["ann", "bob"])
            let bobs = try await server.get("/v1/usage?user=bob", key: adminKey).json
            #expect((bobs["data"]?.arrayValue ?? []).allSatisfy { $0["user"] == "bob" })
            #expect(try await server.get("/v1/usage?user=bob", key: annKey).status == 403)
            let badDay = try await server.get("/v1/usage?from=2026-02-30", key: annKey)
            #expect(badDay.status == 400 && badDay.text.contains("from must be a day"))
            #expect(try await server.get("/v1/usage?from=2020-01-01&to=2026-01-01", key: annKey).status == 400)
            #expect(try await server.get("/v1/usage?to=", key: annKey).status == 400, "an empty day is not a day")

            let metrics = try await server.get("/metrics", key: adminKey).text
            #expect(metrics.contains(#"sluice_tokens_total{"#) && metrics.contains(#"provider="metered""#), "\(metrics)")
        }
    }

    @Test func retryRequeuesFailedItemsAndDeleteRemovesEverything() async throws {
        // The item whose text is "bad" is refused by the provider the first time only.
        let failing = ScriptedProvider.refusingOnce(name: "picky", content: "bad")
        try await ServerHarness.with(providers: [failing]) { server in
            let csv = "id,text\n1,good\n2,bad\n3,good\n"
            let id = try #require(
                try await server.submit(csv, query: "template=%7B%7Btext%7D%7D&provider=picky&max_attempts=1").json["id"]?.stringValue)
            let first = try await server.waitFor(id, until: ServerHarness.isFinal)
            #expect(first["status"] == "completed_with_errors")
            let failed = try await server.get("/v1/jobs/\(id)/items?status=failed").json
            #expect(failed["data"]?.arrayValue?.map { $0["error"]?.stringValue } == ["not today"])
            let retried = try await server.post("/v1/jobs/\(id)/retry")
            #expect(retried.status == 200)
            #expect(retried.json["counts"]?["failed"] == 0)
            let second = try await server.waitFor(id, until: ServerHarness.isFinal)
            #expect(second["status"] == "completed")
            #expect(try await server.post("/v1/jobs/\(id)/retry").status == 409, "nothing left to retry")

            let deleted = try await server.call(.DELETE, "/v1/jobs/\(id)")
            #expect(deleted.json["deleted"] == true)
            #expect(try await server.get("/v1/jobs/\(id)").status == 404)
            #expect(!FileManager.default.fileExists(atPath: server.directory.path("uploads/\(id)")))
        }
    }

    @Test func eventsStreamProgressAndEndAfterTheFinalStatus() async throws {
        let gate = GatedProvider()
        try await ServerHarness.with(providers: [gate]) { server in
            let id = try #require(try await server.submit(reviewsCSV(12), query: Self.gatedQuery).json["id"]?.stringValue)
            var request = HTTPClientRequest(url: server.baseURL + "/v1/jobs/\(id)/events")
            request.method = .GET
            let response = try await server.http.execute(request, timeout: .seconds(60))
            #expect(response.headers["Content-Type"] == ["text/event-stream"])
            var text = ""
            var opened = false
            for try await chunk in response.body {
                text += String(buffer: chunk)
                if !opened, text.contains("event: progress") {
                    // The stream is live before the job can finish: now let the calls through.
                    opened = true
                    gate.open()
                }
            }
            let events = text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
            let statuses = events.filter { $0.hasPrefix("event: status") }.compactMap { event in
                event.split(separator: "\n").last.flatMap { try? JSONParser.parse(String($0.dropFirst("data: ".count))) }?["status"]?
                    .stringValue
            }
            #expect(statuses.last == "completed")
            #expect(statuses.count >= 2, "\(statuses)")
            let last = try #require(events.last { $0.hasPrefix("event: progress") })
            let job = try JSONParser.parse(String(last.split(separator: "\n")[1].dropFirst("data: ".count)))
            #expect(job["counts"]?["succeeded"] == 12)
        }
    }

    @Test func anEventStreamEndsWhenItsJobIsDeleted() async throws {
        try await ServerHarness.with(workers: false) { server in
            let id = try #require(try await server.submit(reviewsCSV(3)).json["id"]?.stringValue)
            _ = try await server.waitFor(id) { $0["status"] == "queued" }
            var request = HTTPClientRequest(url: server.baseURL + "/v1/jobs/\(id)/events")
            request.method = .GET
            let response = try await server.http.execute(request, timeout: .seconds(60))
            var text = ""
            var deleted = false
            for try await chunk in response.body {
                text += String(buffer: chunk)
                if !deleted, text.contains("event: progress") {
                    deleted = true
                    #expect(try await server.call(.DELETE, "/v1/jobs/\(id)").status == 200)
                }
            }
            #expect(text.hasSuffix("event: deleted\ndata: {\"id\":\"\(id)\"}\n\n"))
        }
    }
}
