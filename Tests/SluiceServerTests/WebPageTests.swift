import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing

@testable import SluiceServer

/// A browser as far as the server can tell: it keeps the cookies it is given and sends them
/// back, and reads the form token from the page as a form would.
struct Browser {
    let server: ServerHarness
    var cookies: [String: String] = [:]
    var headers: [(String, String)] = []

    init(_ server: ServerHarness) { self.server = server }

    mutating func call(_ method: HTTPMethod, _ path: String, contentType: String? = nil, body: String? = nil) async throws
        -> ServerHarness.Reply
    {
        var fields = headers
        if !cookies.isEmpty { fields.append(("Cookie", cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; "))) }
        if let contentType { fields.append(("Content-Type", contentType)) }
        let reply = try await server.call(
            method, path, headers: fields, body: body.map { .bytes(ByteBuffer(string: $0)) }, followRedirects: false)
        for header in reply.headers["Set-Cookie"] {
            let pair = header.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let (name, value) = (String(pair[0]), pair.count > 1 ? String(pair[1]) : "")
            if value.isEmpty || header.contains("Max-Age=0") { cookies[name] = nil } else { cookies[name] = value }
        }
        return reply
    }

    mutating func get(_ path: String) async throws -> ServerHarness.Reply { try await call(.GET, path) }

    /// Posts a urlencoded form with the page's token (unless `token` says otherwise).
    mutating func post(_ path: String, _ fields: [(String, String)], token: String? = nil) async throws -> ServerHarness.Reply {
        let all = fields + [("csrf", token ?? cookies["sluice_csrf"] ?? "")]
        let body = all.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)" }.joined(separator: "&")
        return try await call(.POST, path, contentType: "application/x-www-form-urlencoded", body: body)
    }

    /// Posts the new-job form as a browser does: multipart, with the page's token.
    mutating func postForm(_ path: String, fields: [(String, String)], files: [(name: String, contents: String)]) async throws
        -> ServerHarness.Reply
    {
        let boundary = "browser-boundary"
        var text = ""
        for (name, value) in fields + [("csrf", cookies["sluice_csrf"] ?? "")] {
            text += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n"
        }
        for file in files {
            text +=
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(file.name)\"\r\nContent-Type: application/octet-stream\r\n\r\n\(file.contents)\r\n"
        }
        text += "--\(boundary)--\r\n"
        return try await call(.POST, path, contentType: "multipart/form-data; boundary=\(boundary)", body: text)
    }

    /// Signs in with `key` from the sign-in page.
    mutating func signIn(_ key: String) async throws -> ServerHarness.Reply {
        _ = try await get("/sign-in")
        return try await post("/sign-in", [("key", key), ("next", "/")])
    }
}

extension ServerHarness.Reply {
    var location: String? { headers["Location"].first }
    func cookie(_ name: String) -> String? { headers["Set-Cookie"].first { $0.hasPrefix(name + "=") } }
}

/// The web page over real HTTP: sign-in and sessions, who sees what, the form token and the
/// origin check, the new-job form and its preview, the controls, and what every page sends.
@Suite struct WebPageTests {
    /// The job's line says how much of its prompt the provider's cache served, and only when some was.
    @Test func aJobsViewSaysWhatThePromptCacheServed() throws {
        let spec = try JobSpec.parse(["template": "{{text}}"], preset: { _ in nil })
        var job = Job(id: "job_1", owner: "u", name: "n", status: .completed, spec: spec, sources: [], createdAt: Date())
        #expect(WebViews.job(job, now: Date())["hasCachedTokens"] as? Bool == false)
        job.usage = TokenUsage(promptTokens: 900, completionTokens: 10, cachedTokens: 768)
        let view = WebViews.job(job, now: Date())
        #expect(view["hasCachedTokens"] as? Bool == true && view["cachedTokens"] as? Int == 768)
    }

    /// The job's line says its tier, its calls per tier and what it saved against the list price.
    @Test func aJobsViewSaysItsTierAndWhatItSaved() throws {
        let spec = try JobSpec.parse(["template": "{{text}}", "tier": "flex"], preset: { _ in nil })
        var job = Job(id: "job_1", owner: "u", name: "n", status: .completed, spec: spec, sources: [], createdAt: Date())
        #expect(WebViews.job(job, now: Date())["hasSaving"] as? Bool == false)
        job.calls = 10
        job.flexCalls = 8
        job.costMicros = 600_000
        job.listCostMicros = 1_000_000
        let view = WebViews.job(job, now: Date())
        #expect(view["hasSaving"] as? Bool == true && view["saved"] as? String == "$0.4000")
        #expect(view["tier"] as? String == "flex" && view["tierCalls"] as? String == "2 standard, 8 flex, 0 batch")
    }

    func makeKey(_ server: ServerHarness, _ user: String, admin: Bool = false) async throws -> (secret: String, id: String) {
        let (secret, record) = APIKeys.make(user: user, isAdmin: admin, now: Date())
        try await server.store.keys.createKey(record)
        return (secret, record.id)
    }

    @Test func signingInStartsASessionInAStrictHttpOnlyCookieAndNeverKeepsTheKey() async throws {
        try await ServerHarness.with(auth: .required) { server in
            let alice = try await makeKey(server, "alice")
            var browser = Browser(server)
            let first = try await browser.get("/")
            #expect(first.status == 303)
            #expect(first.location == "/sign-in?next=%2F")

            let signIn = try await browser.get("/sign-in")
            #expect(signIn.status == 200)
            #expect(signIn.text.contains("type=\"password\""))
            let signedIn = try await browser.post("/sign-in", [("key", alice.secret), ("next", "/jobs/new")])
            #expect(signedIn.status == 303)
            #expect(signedIn.location == "/jobs/new")
            let cookie = try #require(signedIn.cookie("sluice_session"))
            for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
                #expect(cookie.contains(attribute), "\(attribute)")
            }
            #expect(!cookie.contains("Secure"))
            #expect(!cookie.contains(alice.secret))
            // The form token changes with the session.
            #expect(signedIn.cookie("sluice_csrf") != nil)

            let page = try await browser.get("/jobs/new")
            #expect(page.status == 200)
            #expect(page.text.contains("Signed in as <strong>alice</strong>"))
            #expect(!page.text.contains(alice.secret))

            // Behind a TLS proxy the cookie is Secure.
            var secure = Browser(server)
            secure.headers = [("X-Forwarded-Proto", "https")]
            #expect(try await secure.signIn(alice.secret).cookie("sluice_session")?.contains("Secure") == true)
        }
    }

    @Test func aWrongOrRevokedKeyDoesNotSignIn() async throws {
        try await ServerHarness.with(auth: .required) { server in
            let gone = try await makeKey(server, "gone")
            _ = try await server.store.keys.revokeKey(id: gone.id, now: Date())
            for key in ["sk-sluice-made-up", gone.secret, ""] {
                var browser = Browser(server)
                let reply = try await browser.signIn(key)
                #expect(reply.status == 401)
                #expect(reply.text.contains("That key is not valid"))
                #expect(browser.cookies["sluice_session"] == nil)
                if !key.isEmpty { #expect(!reply.text.contains(key)) }
            }
        }
    }

    @Test func eachUserSeesOnlyTheirOwnJobs() async throws {
        try await ServerHarness.with(auth: .required, workers: false) { server in
            let alice = try await makeKey(server, "alice")
            let bob = try await makeKey(server, "bob")
            let alicesJob = try #require(
                try await server.submit(reviewsCSV(2), query: "preset=text-classify&name=alice-secret-plans", key: alice.secret).json["id"]?
                    .stringValue)
            var browser = Browser(server)
            _ = try await browser.signIn(bob.secret)
            let list = try await browser.get("/")
            #expect(list.status == 200)
            #expect(!list.text.contains("alice-secret-plans"))
            #expect(list.text.contains("No jobs yet"))
            #expect(try await browser.get("/jobs/\(alicesJob)").status == 404)
            #expect(try await browser.get("/v1/jobs/\(alicesJob)").status == 404)
            #expect(try await browser.get("/v1/jobs/\(alicesJob)/results?format=csv").status == 404)

            var owner = Browser(server)
            _ = try await owner.signIn(alice.secret)
            #expect(try await owner.get("/").text.contains("alice-secret-plans"))
            #expect(try await owner.get("/jobs/\(alicesJob)").status == 200)
        }
    }

    @Test func theUsagePageShowsEachUserTheirSpendingAndAdminsTheTeam() async throws {
        // Rows saying "hold" find no capacity, again and again: their job stays in the queues.
        let provider = ScriptedProvider(name: "metered") { request, _ throws(ProviderFailure) in
            if request.messages.last?.content == "hold" { throw .unavailable("no capacity") }
            return "fine"
        }
        try await ServerHarness.with(auth: .required, providers: [provider]) { server in
            let alice = try await makeKey(server, "alice")
            let bob = try await makeKey(server, "bob")
            let boss = try await makeKey(server, "boss", admin: true)
            for key in [alice, bob] {
                let id = try #require(
                    try await server.submit(reviewsCSV(3), query: "template=%7B%7Btext%7D%7D&provider=metered", key: key.secret).json["id"]?
                        .stringValue)
                _ = try await server.waitFor(id, key: key.secret, until: ServerHarness.isFinal)
            }
            // bob's next job waits in the queues.
            let waiting = try await server.submit(
                "id,text\n1,hold\n2,hold\n", query: "template=%7B%7Btext%7D%7D&provider=metered&priority=high", key: bob.secret)
            let waitingID = try #require(waiting.json["id"]?.stringValue)
            _ = try await server.waitFor(waitingID, key: bob.secret) { $0["status"] == "running" }

            var user = Browser(server)
            _ = try await user.signIn(alice.secret)
            let mine = try await user.get("/usage")
            #expect(mine.status == 200 && mine.text.contains("What you spent") && mine.text.contains("scripted-1"), "\(mine.text)")
            #expect(mine.text.contains("<td>alice</td>") && !mine.text.contains("<td>bob</td>"), "only her own")
            #expect(!mine.text.contains("Queues") && !mine.text.contains("Provider limits"))
            #expect(try await user.get("/usage?from=2026-13-01").status == 400)

            // A worker's gate learned a 429 with no limit stated; another worker stopped reporting long ago.
            let now = Date()
            let learned = LimitReading(
                source: .learned, requestsPerMinute: 480, pacedRequestsPerMinute: 408, blockedUntil: now.addingTimeInterval(20),
                burstsAllowed: false, callsInFlight: 2)
            try await server.store.readings.report(
                [ProviderReading(provider: "metered#2", worker: "host:41:w", limits: learned, circuitOpenUntil: nil, reportedAt: now)],
                worker: "host:41:w", now: now)
            let stale = now.addingTimeInterval(-600)
            try await server.store.readings.report(
                [
                    ProviderReading(
                        provider: "metered#1", worker: "host:7:w", limits: LimitReading(source: .configured), circuitOpenUntil: nil,
                        reportedAt: stale)
                ],
                worker: "host:7:w", now: stale)

            var admin = Browser(server)
            _ = try await admin.signIn(boss.secret)
            let team = try await admin.get("/usage")
            #expect(
                team.text.contains(
                    "<td>metered#2</td><td><code>host:41:w</code></td><td>429s (no limit stated)</td><td>480</td><td>408</td><td>—</td><td>—</td>"
                ), "\(team.text)")
            #expect(team.text.contains("held by a 429 for") && team.text.contains("no bursts"))
            #expect(!team.text.contains("host:7:w"), "a worker silent for minutes is not shown")
            #expect(!mine.text.contains("Limits the workers see"))
            #expect(team.text.contains("<td>alice</td>") && team.text.contains("<td>bob</td>"))
            #expect(team.text.contains("<td>bob</td><td>high</td><td>1</td>"), "bob's high-priority job is queued: \(team.text)")
            #expect(team.text.contains("<h2 id=\"keys-title\">Keys</h2>") && team.text.contains("<td>metered</td>"))
            #expect(team.text.contains("<svg class=\"chart\""))
            // An admin moves bob's job down from its page; bob cannot move it back.
            #expect(try await admin.get("/jobs/\(waitingID)").text.contains("<select id=\"priority\" name=\"priority\">"))
            let moved = try await admin.post("/jobs/\(waitingID)/priority", [("priority", "low")])
            #expect(moved.status == 303, "\(moved.text)")
            #expect(try await server.get("/v1/jobs/\(waitingID)", key: bob.secret).json["priority"] == "low")
            var owner = Browser(server)
            _ = try await owner.signIn(bob.secret)
            #expect(!(try await owner.get("/jobs/\(waitingID)").text.contains("<select id=\"priority\"")))
            #expect(try await owner.post("/jobs/\(waitingID)/priority", [("priority", "high")]).status == 403)
        }
    }

    @Test func theNewJobFormOffersPriorityAndDeadlineAndTheJobPageSaysThem() async throws {
        try await ServerHarness.with(workers: false) { server in
            var browser = Browser(server)
            let form = try await browser.get("/jobs/new")
            #expect(form.text.contains("<select id=\"priority\" name=\"priority\"") && form.text.contains("name=\"deadline\""))
            let created = try await browser.postForm(
                "/jobs", fields: [("mode", "preset"), ("preset", "text-classify"), ("priority", "high"), ("deadline", "2h")],
                files: [("rows.csv", reviewsCSV(2))])
            let page = try await browser.get(try #require(created.location, "\(created.status) \(created.text)"))
            #expect(page.text.contains("priority high") && page.text.contains("deadline <time"), "\(page.text)")
            let bad = try await browser.postForm(
                "/jobs", fields: [("mode", "preset"), ("preset", "text-classify"), ("deadline", "3 weeks")],
                files: [("rows.csv", reviewsCSV(2))])
            #expect(bad.status == 400 && bad.text.contains("deadline"))
        }
    }

    @Test func aSessionReadsTheAPIButChangesNothingThroughIt() async throws {
        try await ServerHarness.with(auth: .required, workers: false) { server in
            let alice = try await makeKey(server, "alice")
            let id = try #require(try await server.submit(reviewsCSV(2), key: alice.secret).json["id"]?.stringValue)
            var browser = Browser(server)
            _ = try await browser.signIn(alice.secret)
            #expect(try await browser.get("/v1/jobs/\(id)").status == 200)
            let cancel = try await browser.call(.POST, "/v1/jobs/\(id)/cancel")
            #expect(cancel.status == 401)
            #expect(try await server.store.job(id: id)?.status != .cancelled)
        }
    }

    @Test func signingOutRevokingTheKeyOrExpiryEndTheSession() async throws {
        try await ServerHarness.with(auth: .required) { server in
            let alice = try await makeKey(server, "alice")
            var browser = Browser(server)
            _ = try await browser.signIn(alice.secret)
            let session = try #require(browser.cookies["sluice_session"])
            #expect(try await browser.get("/").status == 200)
            let out = try await browser.post("/sign-out", [])
            #expect(out.status == 303)
            #expect(out.location == "/sign-in")
            // The old cookie is worth nothing, even sent again.
            browser.cookies["sluice_session"] = session
            #expect(try await browser.get("/").status == 303)

            var revoked = Browser(server)
            _ = try await revoked.signIn(alice.secret)
            #expect(try await revoked.get("/").status == 200)
            _ = try await server.store.keys.revokeKey(id: alice.id, now: Date())
            #expect(try await revoked.get("/").status == 303)
            #expect(try await revoked.get("/v1/jobs").status == 401)

            let bob = try await makeKey(server, "bob")
            let secret = BrowserSession.secret()
            let past = Date().addingTimeInterval(-60)
            try await server.store.keys.createSession(
                WebSession(hash: BrowserSession.hash(secret), keyID: bob.id, createdAt: past.addingTimeInterval(-3600), expiresAt: past),
                now: past.addingTimeInterval(-1))
            var expired = Browser(server)
            expired.cookies["sluice_session"] = secret
            #expect(try await expired.get("/").status == 303)
            for forged in ["not-hex", String(repeating: "a", count: 64), String(repeating: "z", count: 64)] {
                var stranger = Browser(server)
                stranger.cookies["sluice_session"] = forged
                #expect(try await stranger.get("/").status == 303)
                #expect(try await stranger.get("/v1/jobs").status == 401)
            }
        }
    }

    @Test func formsNeedThePagesTokenAndRequestsFromOtherSitesAreRefused() async throws {
        try await ServerHarness.with(auth: .off, workers: false) { server in
            let id = try #require(try await server.submit(reviewsCSV(3)).json["id"]?.stringValue)
            var browser = Browser(server)
            _ = try await browser.get("/jobs/\(id)")
            let forged = try await browser.post("/jobs/\(id)/cancel", [], token: String(repeating: "0", count: 64))
            #expect(forged.status == 403)
            var stranger = Browser(server)
            #expect(try await stranger.post("/jobs/\(id)/cancel", [], token: "").status == 403)
            #expect(try await server.store.job(id: id)?.status != .cancelled)

            // A browser on another site: refused before anything is read, on the page and the API alike.
            for path in ["/jobs/\(id)/cancel", "/v1/jobs/\(id)/cancel"] {
                let reply = try await server.call(.POST, path, headers: [("Origin", "http://evil.example")])
                #expect(reply.status == 403, "\(path)")
                #expect(reply.errorCode == "cross_origin_refused")
            }
            #expect(try await server.store.job(id: id)?.status != .cancelled)

            browser.headers = [("Origin", server.baseURL)]
            let cancelled = try await browser.post("/jobs/\(id)/cancel", [])
            #expect(cancelled.status == 303)
            #expect(cancelled.location == "/jobs/\(id)")
            #expect(try await server.store.job(id: id)?.status.isFinal == true)
        }
    }

    @Test func pagesSendAStrictContentSecurityPolicyAndNoInlineCode() async throws {
        try await ServerHarness.with(auth: .off) { server in
            let id = try #require(try await server.submit(reviewsCSV(2)).json["id"]?.stringValue)
            _ = try await server.waitFor(id, until: ServerHarness.isFinal)
            var browser = Browser(server)
            for path in ["/", "/jobs/new", "/jobs/\(id)", "/jobs/nope"] {
                let page = try await browser.get(path)
                let policy = try #require(page.headers["Content-Security-Policy"].first, "\(path)")
                #expect(!policy.contains("unsafe-inline"))
                #expect(policy.contains("script-src 'self'"))
                #expect(page.headers["Content-Type"].first == "text/html; charset=utf-8")
                #expect(page.headers["Cache-Control"].first == "no-store")
                #expect(!page.text.contains("<script>"), "\(path)")
                #expect(!page.text.contains(" style=\""), "\(path)")
                #expect(!page.text.contains(" onclick="), "\(path)")
            }
            #expect(try await browser.get("/jobs/nope").status == 404)
        }
    }

    @Test func staticFilesAreCachedAndRevalidated() async throws {
        try await ServerHarness.with(auth: .required) { server in
            // Served without a session: the sign-in page needs them.
            let script = try await server.get("/static/app.js")
            #expect(script.status == 200)
            #expect(script.headers["Content-Type"].first == "text/javascript; charset=utf-8")
            #expect(script.headers["Cache-Control"].first == "public, max-age=3600")
            let etag = try #require(script.headers["ETag"].first)
            let again = try await server.call(.GET, "/static/app.js", headers: [("If-None-Match", etag)])
            #expect(again.status == 304)
            #expect(again.body.isEmpty)
            #expect(try await server.get("/static/app.css").status == 200)
            #expect(try await server.get("/static/nothing.js").status == 404)
        }
    }

    @Test func theNewJobFormPreviewsThenCreatesAJobFromSeveralFiles() async throws {
        try await ServerHarness.with(auth: .off) { server in
            var browser = Browser(server)
            let form = try await browser.get("/jobs/new")
            #expect(form.text.contains("text-classify"))
            let files = [(name: "a.csv", contents: reviewsCSV(3)), (name: "b.csv", contents: reviewsCSV(2))]

            let preview = try await browser.postForm(
                "/jobs/preview?fragment=1", fields: [("mode", "preset"), ("preset", "text-classify")], files: files)
            #expect(preview.status == 200)
            #expect(preview.text.contains("<th scope=\"col\">text</th>"))
            #expect(preview.text.contains("review 0 was great"))
            #expect(preview.text.contains("The prompt the first row would get"))
            // The whole of both files read for the estimate, and a sample called.
            #expect(preview.text.contains("estimate: 5 rows in 5 calls"), "\(preview.text)")
            #expect(preview.text.contains("sample: 3 call(s)"))
            let head = try await browser.postForm(
                "/jobs/preview?fragment=1", fields: [("mode", "preset"), ("preset", "text-classify"), ("partial", "1")], files: files)
            #expect(!head.text.contains("data-estimate>") && head.text.contains("data-estimate-note"), "a file's head has no estimate")

            // An image column: its images listed after the prompt, the form offering the field.
            #expect(form.text.contains("name=\"image_column\"") && form.text.contains("name=\"image_detail\""))
            #expect(form.text.contains("name=\"document_column\""))
            let photos = try await browser.postForm(
                "/jobs/preview?fragment=1",
                fields: [("mode", "custom"), ("template", "Describe {{name}}."), ("image_column", "photo"), ("image_detail", "low")],
                files: [(name: "photos.csv", contents: "name,photo\nmug,https://shop.test/mug.jpg\n")])
            #expect(
                photos.text.contains("Describe mug.\n[image: https://shop.test/mug.jpg (a URL the provider fetches)]"), "\(photos.text)")

            // Without script the form posts to the preview and comes back whole, with its values.
            let whole = try await browser.postForm(
                "/jobs/preview", fields: [("mode", "preset"), ("preset", "text-classify"), ("name", "kept name")], files: files)
            #expect(whole.text.contains("<h1>New job</h1>"))
            #expect(whole.text.contains("value=\"kept name\""))
            #expect(whole.text.contains("review 0 was great"))
            #expect(whole.text.contains("Choose the files again"))

            // A form without a file, or with a preset that does not exist, is told why.
            let empty = try await browser.postForm(
                "/jobs/preview?fragment=1", fields: [("mode", "preset"), ("preset", "text-classify")], files: [])
            #expect(empty.text.contains("choose a file to preview"))
            let unknown = try await browser.postForm(
                "/jobs/preview?fragment=1", fields: [("mode", "preset"), ("preset", "no-such-preset")], files: files)
            #expect(unknown.text.contains("data-preview-problem"))
            #expect(unknown.text.contains("no-such-preset"))
            let noFile = try await browser.postForm("/jobs", fields: [("mode", "preset"), ("preset", "text-classify")], files: [])
            #expect(noFile.status == 400)
            #expect(noFile.text.contains("no file"))
            let unknownFormat = try await browser.postForm(
                "/jobs", fields: [("mode", "preset"), ("preset", "text-classify")], files: [(name: "notes.bin", contents: "x")])
            #expect(unknownFormat.status == 400)
            #expect(unknownFormat.text.contains("cannot tell the format of notes.bin"))
            // Nothing of the refused forms or the previews is left in the spool.
            let spool = try FileManager.default.contentsOfDirectory(atPath: server.directory.path("uploads"))
            #expect(spool.allSatisfy { !$0.hasPrefix("preview-") }, "\(spool)")

            let custom = try await browser.postForm(
                "/jobs/preview?fragment=1",
                fields: [("mode", "custom"), ("preset", "text-classify"), ("template", "Shout this: {{text}}")], files: files)
            #expect(custom.text.contains("Shout this: review 0 was great"))

            let created = try await browser.postForm(
                "/jobs", fields: [("mode", "preset"), ("preset", "text-classify"), ("name", "two files"), ("batch_size", "")],
                files: files)
            #expect(created.status == 303)
            let id = try #require(created.location?.split(separator: "/").last.map(String.init))
            let job = try await server.waitFor(id, until: ServerHarness.isFinal)
            #expect(job["status"] == "completed")
            #expect(job["counts"]?["total"] == 5)
            #expect(job["name"] == "two files")
            let page = try await browser.get("/jobs/\(id)")
            #expect(page.text.contains("<progress data-field=\"progress\" max=\"5\" value=\"5\""))
            #expect(page.text.contains("/v1/jobs/\(id)/results?format=csv"))
            #expect(page.text.contains("<svg class=\"chart\""))
            // The downloads the page links to, read with the page's cookies.
            let csv = try await browser.get("/v1/jobs/\(id)/results?format=csv")
            #expect(csv.status == 200)
            #expect(csv.text.split(whereSeparator: \.isNewline).count == 6)
        }
    }

    @Test func aMalformedUploadShowsItsLineInThePreviewAndOnTheJobsPage() async throws {
        try await ServerHarness.with(auth: .off) { server in
            var browser = Browser(server)
            _ = try await browser.get("/jobs/new")
            let broken = "id,text\n1,fine\n2,\"never closed\n3,after\n"
            let preview = try await browser.postForm(
                "/jobs/preview?fragment=1", fields: [("mode", "preset"), ("preset", "text-classify")],
                files: [(name: "broken.csv", contents: broken)])
            #expect(preview.text.contains("data-preview-problem"))
            #expect(preview.text.contains("line 3"))

            let refused = try await browser.postForm(
                "/jobs", fields: [("mode", "custom"), ("template", "{{text"), ("name", "kept")], files: [(name: "a.csv", contents: broken)])
            #expect(refused.status == 400)
            #expect(refused.text.contains("role=\"alert\""))
            #expect(refused.text.contains("value=\"kept\""))

            let created = try await browser.postForm(
                "/jobs", fields: [("mode", "preset"), ("preset", "text-classify")], files: [(name: "broken.csv", contents: broken)])
            let id = try #require(created.location?.split(separator: "/").last.map(String.init))
            _ = try await server.waitFor(id, until: ServerHarness.isFinal)
            let page = try await browser.get("/jobs/\(id)")
            #expect(page.text.contains("status-failed"))
            #expect(page.text.contains("<strong>line 3, column 3</strong>: unclosed quote"))
        }
    }

    @Test func theControlsShownAreTheOnesTheStatusAllows() async throws {
        try await ServerHarness.with(auth: .off, workers: false) { server in
            let id = try #require(try await server.submit(reviewsCSV(3)).json["id"]?.stringValue)
            _ = try await server.waitFor(id) { $0["status"] == "queued" }
            var browser = Browser(server)
            var page = try await browser.get("/jobs/\(id)")
            #expect(page.text.contains("/jobs/\(id)/pause"))
            #expect(page.text.contains("/jobs/\(id)/cancel"))
            #expect(!page.text.contains("/jobs/\(id)/resume"))
            #expect(!page.text.contains("/jobs/\(id)/retry"))

            #expect(try await browser.post("/jobs/\(id)/pause", []).status == 303)
            page = try await browser.get("/jobs/\(id)")
            #expect(page.text.contains("/jobs/\(id)/resume"))
            #expect(!page.text.contains("/jobs/\(id)/pause"))

            // An action there is none of is a page not found; a control the status forbids is
            // refused on a page that says why.
            #expect(try await browser.post("/jobs/\(id)/explode", []).status == 404)
            let retry = try await browser.post("/jobs/\(id)/retry", [])
            #expect(retry.status == 409)
            #expect(retry.text.contains("cannot retry the failed items of job \(id): it is paused"))
        }
    }

    @Test func theChartMergesBucketsAndRatesEachBarOverItsRunningTime() {
        let start = Date(timeIntervalSince1970: 1_000_000)
        let samples = (0..<240).map { index in
            JobActivity.Sample(
                start: start.addingTimeInterval(Double(index) * JobActivity.bucketSeconds), finished: 10, throttled: index == 7 ? 3 : 0)
        }
        let chart = ActivityChart(samples: samples, from: start, to: start.addingTimeInterval(240 * JobActivity.bucketSeconds - 0.001))
        #expect(chart.bars.count == 60)
        #expect(chart.bars.reduce(0) { $0 + $1.finished } == 2_400)
        #expect(chart.totalThrottled == 3)
        #expect(chart.bars[1].throttled == 3)
        #expect(abs(chart.peakRate - 2.0) < 0.01)
        #expect(chart.summary.contains("3 items held back"))

        // A job shorter than a bucket: its rate is over the time it ran, not the whole bucket.
        let short = ActivityChart(
            samples: [JobActivity.Sample(start: start, finished: 40, throttled: 0)], from: start.addingTimeInterval(1),
            to: start.addingTimeInterval(3))
        #expect(short.bars.count == 1)
        #expect(abs(short.peakRate - 20) < 0.01)
        #expect(ActivityChart(samples: [], from: start, to: start).summary == "No items finished yet.")
    }

    @Test func formBodiesAndRedirectTargetsAreReadSafely() {
        let fields = FormBody.parse("key=sk-sluice-a%2Bb&next=%2Fjobs%2Fnew&empty=&name=two+words")
        #expect(fields.map(\.name) == ["key", "next", "empty", "name"])
        #expect(fields.map(\.value) == ["sk-sluice-a+b", "/jobs/new", "", "two words"])
        #expect(WebRoutes.localPath("/jobs/new") == "/jobs/new")
        for outside in [
            "//evil.example", "https://evil.example", "/\\evil", "%2F%2Fevil.example", "jobs", "/\t/evil.example", "/%09/evil.example",
            "/\n/evil.example", "/ /evil.example",
        ] {
            #expect(WebRoutes.localPath(outside) == nil, "\(outside)")
        }
    }
}
