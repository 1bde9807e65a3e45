import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SluiceCore
import SluiceEngine
import SluicePresets
import SluiceProviders
import SluiceStore

/// The web page at `/`: jobs, a new-job form with a preview, a job's live page, sign-in.
///
/// Pages are rendered on the server and work without script (a refresh shows the latest);
/// `/static/app.js` adds live progress, the preview without leaving the form, and the chart's
/// refresh. The page reads jobs through the same store calls as the API and changes them
/// through the same operations, with each user seeing only their own jobs.
struct WebRoutes {
    let api: SluiceAPI
    let assets: WebAssets
    static let pageSize = 20
    static let failuresShown = 50
    /// Records the preview shows: enough to see the columns and check the prompt.
    static let previewRows = 5
    /// Workers report their readings every heartbeat (15 s): older ones are a stopped worker's.
    static let readingsShownFor = 120.0

    func add(to routes: RouteTable) {
        routes.add(.get, "/") { try await page($0, $1, jobs) }
        routes.add(.get, "/jobs/new") { try await page($0, $1, newJob) }
        routes.add(.get, "/usage") { try await page($0, $1, usage) }
        routes.add(.post, "/jobs") { try await page($0, $1, create) }
        routes.add(.post, "/jobs/preview") { try await page($0, $1, preview) }
        routes.add(.get, "/jobs/:id") { try await page($0, $1, job) }
        routes.add(.get, "/jobs/:id/chart") { try await page($0, $1, chart) }
        routes.add(.post, "/jobs/:id/:action") { try await page($0, $1, control) }
        routes.add(.get, "/sign-in") { try await openPage($0, $1, signInForm) }
        routes.add(.post, "/sign-in") { try await openPage($0, $1, signIn) }
        routes.add(.post, "/sign-out") { try await openPage($0, $1, signOut) }
        routes.add(.get, "/static/:name") { request, context in try assets.file(try context.parameters.require("name"), request: request) }
    }

    // MARK: Pages

    /// `GET /`: the caller's jobs, newest first, a page at a time.
    func jobs(_ request: Request, _ context: SluiceRequestContext, _ caller: Principal) async throws -> Response {
        let after = request.uri.queryParameters["after"].map(String.init)
        let cursor = after.flatMap { $0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) }
        let found = try await api.store.jobs(
            JobQuery(owner: caller.isAdmin ? nil : caller.user, after: after, limit: Self.pageSize + 1))
        let now = api.clock.now()
        let shown = found.prefix(Self.pageSize)
        var view: [String: Any] = [
            "title": "Jobs", "jobs": shown.map { WebViews.job($0, now: now) }, "hasJobs": !shown.isEmpty, "isLaterPage": after != nil,
            "listSource": "/v1/jobs?limit=\(Self.pageSize)" + (cursor.map { "&after=\($0)" } ?? ""),
        ]
        if found.count > Self.pageSize, let last = shown.last { view["nextPage"] = "/?after=\(last.id)" }
        return try render("jobs", view, request, caller)
    }

    /// `GET /usage`: what was spent per day, user, provider and model (an admin sees everyone),
    /// and for admins the team view: queues by user and priority, keys with their weights,
    /// quotas and spending, and the providers' limits.
    func usage(_ request: Request, _ context: SluiceRequestContext, _ caller: Principal) async throws -> Response {
        let now = api.clock.now()
        let asked = try UsageRoutes.ask(request, caller: caller, now: now, blankIsAbsent: true)
        let rows = try await api.usage.usage(user: asked.user, from: asked.from, through: asked.through)
        var view = WebViews.usage(rows, days: UsageRoutes.days(from: asked.from, through: asked.through))
        view["title"] = "Usage"
        view["from"] = asked.from
        view["to"] = asked.through
        view["isAdmin"] = caller.isAdmin
        if caller.isAdmin {
            let queues = try await api.store.queues()
            view["queues"] = queues.map { queue -> [String: Any] in
                [
                    "user": queue.owner, "priority": queue.priority.rawValue, "jobs": queue.jobs, "pending": queue.pending,
                    "running": queue.running, "paused": queue.paused,
                ]
            }
            view["hasQueues"] = !queues.isEmpty
            let spent = try await api.usage.spentByKey(in: UsageWindow(now))
            view["keys"] = try await api.keys.keys().map { key -> [String: Any] in
                let mine = spent[key.id] ?? KeyQuota.Spent()
                return [
                    "prefix": key.prefix, "revoked": key.revokedAt != nil, "user": key.user, "weight": key.weight,
                    "quota": key.quota.summary, "today": WebViews.spent(tokens: mine.tokensToday, micros: mine.costMicrosToday),
                    "month": WebViews.spent(tokens: mine.tokensThisMonth, micros: mine.costMicrosThisMonth),
                ]
            }
            view["limits"] = api.resolver.configuration.providers.map { provider -> [String: Any] in
                let limits = provider.limits
                return [
                    "name": provider.name, "rpm": limits.requestsPerMinute.map { String(Int($0)) } ?? "learned",
                    "tpm": limits.tokensPerMinute.map { String(Int($0)) } ?? "learned",
                    "reserve": limits.reserve > 0 ? "\(Int((limits.reserve * 100).rounded()))%" : "none",
                ]
            }
            let readings = try await api.readings.readings(since: now.addingTimeInterval(-Self.readingsShownFor))
            view["readings"] = readings.map { WebViews.reading($0, now: now) }
            view["hasReadings"] = !readings.isEmpty
        }
        return try render("usage", view, request, caller)
    }

    /// `GET /jobs/new`: the form, with the presets, providers and models this server offers.
    func newJob(_ request: Request, _ context: SluiceRequestContext, _ caller: Principal) async throws -> Response {
        try render("new-job", formView(values: []), request, caller)
    }

    /// `POST /jobs/preview`: the first rows and the first prompt, as a fragment for the script
    /// (`?fragment=1`) or as the form again with the preview under it.
    func preview(_ request: Request, _ context: SluiceRequestContext, _ caller: Principal) async throws -> Response {
        let slot = try await api.admitUpload(request, caller: caller, kept: false)
        defer { slot.release() }
        // Received into a folder of its own, read, and removed before answering: nothing is kept.
        let folder = "preview-" + UUID().uuidString.lowercased()
        let (upload, fields) = try await api.inFolder(folder) { try await receiveForm(request, into: $0) }
        let preview = await preview(of: upload, fields: fields, owner: caller.user, context: context)
        await api.discard(folder)
        if request.uri.queryParameters["fragment"] == "1" { return try render("preview", ["preview": preview], request, caller) }
        var page = formView(values: fields)
        page["preview"] = preview
        page["previewed"] = true
        return try render("new-job", page, request, caller)
    }

    /// The preview's view: the first records and prompt, or why there are none.
    func preview(
        of upload: ReceivedUpload, fields: [(name: String, value: String)], owner: String, context: SluiceRequestContext
    ) async -> [String: Any] {
        do {
            let spec = try api.resolve(SpecFields.json(from: specFields(fields)))
            let files = try upload.files.map { file in
                (
                    path: file.path,
                    source: JobSource(path: file.path, displayName: file.filename, format: try api.format(of: file, spec: spec))
                )
            }
            guard !files.isEmpty else { throw APIError.badRequest("choose a file to preview", param: "file") }
            var preview = try await JobPreview.make(spec: spec, sources: files, limit: Self.previewRows, owner: owner)
            // The script sends only the head of a large file: a problem at the cut is not the file's.
            let partial = value("partial", in: fields) == "1"
            if partial, !preview.rows.isEmpty { preview.problem = nil }
            var view = WebViews.preview(preview)
            // The estimate needs the whole file, and a file without problems.
            if partial {
                view["estimateNote"] =
                    "The estimate needs the whole file: this preview has only its head. Submit with dry_run=true (or sluice run --estimate) for it."
            } else if preview.problem == nil {
                let entry = api.providers[spec.provider]
                let estimate = try await JobEstimate.make(
                    spec: spec, sources: files, provider: entry?.provider, limits: entry?.limits ?? RateLimits(),
                    prices: api.resolver.configuration.prices, concurrency: EngineConfiguration.defaultConcurrency, owner: owner)
                view["estimate"] = estimate.summary
                view["estimateBasis"] = estimate.basis
                view["hasEstimate"] = estimate.problem == nil
            }
            return view
        } catch {
            return ["problem": APIError.answering(error, context: context).message, "hasProblem": true]
        }
    }

    /// `POST /jobs`: the form's files and spec become a job, exactly as `POST /v1/jobs` makes
    /// one; the browser goes on to the job's page. A refused form comes back with its values
    /// and the reason.
    func create(_ request: Request, _ context: SluiceRequestContext, _ caller: Principal) async throws -> Response {
        let slot = try await api.admitUpload(request, caller: caller)
        defer { slot.release() }
        let jobID = Job.makeID()
        var fields: [(name: String, value: String)] = []
        do {
            let job = try await api.inFolder(jobID) { folder in
                let upload: ReceivedUpload
                (upload, fields) = try await receiveForm(request, into: folder)
                let spec = try api.resolve(SpecFields.json(from: specFields(fields)))
                return try await api.createJob(try api.order(id: jobID, upload: upload, spec: spec, rawFormat: nil), caller: caller)
            }
            context.logger.info("job created from the web page", metadata: ["job": .string(job.id)])
            return Self.redirect("/jobs/\(job.id)")
        } catch let error as APIError where error.status == .badRequest {
            var view = formView(values: fields)
            view["error"] = error.message
            return try render("new-job", view, request, caller, status: .badRequest)
        }
    }

    /// `GET /jobs/{id}`: the job's progress, controls, downloads, failures and chart.
    func job(_ request: Request, _ context: SluiceRequestContext, _ caller: Principal) async throws -> Response {
        let job = try await api.ownedJob(try context.parameters.require("id"), by: caller)
        let now = api.clock.now()
        var view = WebViews.job(job, now: now)
        view["title"] = job.name
        var after = -1
        if let text = request.uri.queryParameters["failed_after"], let index = Int(text) { after = index }
        let failures = try await api.store.items(jobID: job.id, status: .failed, afterIndex: after, limit: Self.failuresShown + 1)
        let shown = failures.prefix(Self.failuresShown)
        view["failures"] = shown.map(WebViews.failedItem)
        view["hasFailures"] = !shown.isEmpty
        if failures.count > Self.failuresShown, let last = shown.last {
            view["moreFailures"] = "/jobs/\(job.id)?failed_after=\(last.index)"
        }
        view["chart"] = try await chart(of: job, now: now)
        view["canPrioritise"] = caller.isAdmin && !job.status.isFinal
        view["priorities"] = JobPriority.allCases.sorted { $0.rank > $1.rank }.map { priority -> [String: Any] in
            ["value": priority.rawValue, "label": priority.rawValue.capitalized, "selected": priority == job.spec.priority]
        }
        return try render("job", view, request, caller)
    }

    /// `GET /jobs/{id}/chart`: the chart alone, which the script redraws while the job runs.
    func chart(_ request: Request, _ context: SluiceRequestContext, _ caller: Principal) async throws -> Response {
        let job = try await api.ownedJob(try context.parameters.require("id"), by: caller)
        return try render("chart", ["chart": try await chart(of: job, now: api.clock.now())], request, caller)
    }

    func chart(of job: Job, now: Date) async throws -> [String: Any] {
        guard let started = job.startedAt else { return ["summary": "The job has not started yet."] }
        let chart = ActivityChart(samples: try await api.store.activity(jobID: job.id), from: started, to: job.finishedAt ?? now)
        return ["svg": chart.svg, "summary": chart.summary, "span": chart.span]
    }

    /// `POST /jobs/{id}/cancel|pause|resume|retry|priority`: the store's operation, then the
    /// job's page; a status that forbids it shows the page with the reason. Only an admin
    /// changes a priority, as through the API.
    func control(_ request: Request, _ context: SluiceRequestContext, _ caller: Principal) async throws -> Response {
        let fields = try await Self.urlEncodedForm(request)
        try BrowserSession.checkToken(value(BrowserSession.tokenField, in: fields), request: request)
        let job = try await api.ownedJob(try context.parameters.require("id"), by: caller)
        let store = api.store
        let now = api.clock.now()
        let action = try context.parameters.require("action")
        switch action {
        case "cancel": _ = try await store.cancel(jobID: job.id, now: now)
        case "pause": _ = try await store.pause(jobID: job.id, reason: "paused from the web page", now: now)
        case "resume": _ = try await store.resume(jobID: job.id, now: now)
        case "retry": _ = try await store.retryFailed(jobID: job.id, now: now)
        case "priority":
            guard caller.isAdmin else { throw APIError(.forbidden, code: "forbidden", "only an admin changes a job's priority") }
            guard let priority = value("priority", in: fields).flatMap(JobPriority.init(rawValue:)) else {
                throw APIError.badRequest("priority must be high, normal or low", param: "priority")
            }
            _ = try await store.setPriority(jobID: job.id, priority: priority)
        default: throw APIError.notFound("action \(action)")
        }
        return Self.redirect("/jobs/\(job.id)")
    }

    // MARK: Signing in

    func signInForm(_ request: Request, _ context: SluiceRequestContext, _ caller: Principal?) async throws -> Response {
        if api.configuration.auth == .off || caller != nil { return Self.redirect("/") }
        return try render(
            "sign-in", ["title": "Sign in", "next": Self.localPath(request.uri.queryParameters["next"]) ?? "/"], request, nil)
    }

    /// `POST /sign-in`: a valid, unrevoked key starts a session; the key is checked and dropped.
    func signIn(_ request: Request, _ context: SluiceRequestContext, _ caller: Principal?) async throws -> Response {
        let fields = try await Self.urlEncodedForm(request)
        try BrowserSession.checkToken(value(BrowserSession.tokenField, in: fields), request: request)
        let next = Self.localPath(value("next", in: fields)) ?? "/"
        let secret = (value("key", in: fields) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard api.configuration.auth == .required else { return Self.redirect(next) }
        guard !secret.isEmpty, let key = try await api.keys.key(hash: APIKeys.hash(secret)), key.revokedAt == nil else {
            let view: [String: Any] = ["title": "Sign in", "next": next, "error": "That key is not valid, or has been revoked."]
            return try render("sign-in", view, request, nil, status: .unauthorized)
        }
        let now = api.clock.now()
        let session = BrowserSession.secret()
        try await api.keys.createSession(
            WebSession(
                hash: BrowserSession.hash(session), keyID: key.id, createdAt: now,
                expiresAt: now.addingTimeInterval(api.configuration.sessionSeconds)),
            now: now)
        context.logger.info("signed in", metadata: ["user": .string(key.user), "key": .string(key.id)])
        var response = Self.redirect(next)
        let secure = BrowserSession.isSecure(request, configuration: api.configuration)
        response.setCookie(
            BrowserSession.cookie(BrowserSession.sessionCookie, session, maxAge: Int(api.configuration.sessionSeconds), secure: secure))
        // A new form token with the new session: one seen before signing in is worth nothing after.
        response.setCookie(BrowserSession.cookie(BrowserSession.tokenCookie, BrowserSession.secret(), maxAge: nil, secure: secure))
        return response
    }

    func signOut(_ request: Request, _ context: SluiceRequestContext, _ caller: Principal?) async throws -> Response {
        let fields = try await Self.urlEncodedForm(request)
        try BrowserSession.checkToken(value(BrowserSession.tokenField, in: fields), request: request)
        if let secret = request.cookies[BrowserSession.sessionCookie]?.value {
            try await api.keys.deleteSession(hash: BrowserSession.hash(secret))
        }
        var response = Self.redirect(api.configuration.auth == .required ? "/sign-in" : "/")
        let secure = BrowserSession.isSecure(request, configuration: api.configuration)
        response.setCookie(BrowserSession.cookie(BrowserSession.sessionCookie, "", maxAge: 0, secure: secure))
        response.setCookie(BrowserSession.cookie(BrowserSession.tokenCookie, "", maxAge: 0, secure: secure))
        return response
    }
}

extension WebRoutes {
    typealias SignedInPage = (Request, SluiceRequestContext, Principal) async throws -> Response
    typealias OpenPage = (Request, SluiceRequestContext, Principal?) async throws -> Response

    /// A page for a signed-in caller: without one the browser is sent to sign in and come back.
    func page(_ request: Request, _ context: SluiceRequestContext, _ handler: SignedInPage) async throws -> Response {
        guard let caller = context.principal else {
            let back = request.method == .get ? request.uri.path + (request.uri.query.map { "?" + $0 } ?? "") : "/"
            return Self.redirect("/sign-in?next=" + (back.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/"))
        }
        return try await openPage(request, context) { request, context, _ in try await handler(request, context, caller) }
    }

    /// A page anyone may open; a refusal is shown as a page, not as the API's JSON.
    func openPage(_ request: Request, _ context: SluiceRequestContext, _ handler: OpenPage) async throws -> Response {
        do {
            return try await handler(request, context, context.principal)
        } catch {
            return try errorPage(APIError.answering(error, context: context), request, context.principal)
        }
    }

    func errorPage(_ error: APIError, _ request: Request, _ caller: Principal?) throws -> Response {
        let view: [String: Any] = ["title": error.status.reasonPhrase, "status": Int(error.status.code), "message": error.message]
        var response = try render("error", view, request, caller, status: error.status)
        response.headers.append(contentsOf: error.headers)
        return response
    }

    /// A page with what every page shows (who is signed in, the form token) and the headers
    /// every page sends: a strict Content-Security-Policy, no caching, no sniffing.
    func render(
        _ template: String, _ view: [String: Any], _ request: Request, _ caller: Principal?, status: HTTPResponse.Status = .ok
    ) throws -> Response {
        let token = BrowserSession.token(of: request)
        var view = view
        view["csrf"] = token.value
        view["signedIn"] = caller != nil
        view["user"] = caller?.user ?? ""
        view["canSignOut"] = caller != nil && api.configuration.auth == .required
        let html = try assets.render(template, view)
        var response = Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
        response.headers[.contentSecurityPolicy] =
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicy] = "same-origin"
        if token.isNew {
            response.setCookie(
                BrowserSession.cookie(
                    BrowserSession.tokenCookie, token.value, maxAge: nil,
                    secure: BrowserSession.isSecure(request, configuration: api.configuration)))
        }
        return response
    }

    /// The new-job form: presets, providers and known models, and the values given so far.
    func formView(values: [(name: String, value: String)]) -> [String: Any] {
        let chosen = { (name: String) in value(name, in: values) ?? "" }
        let preset = chosen("preset")
        let provider = chosen("provider")
        let custom = chosen("mode") == "custom"
        let configuration = api.resolver.configuration
        var models = Set(api.resolver.catalog.presets.compactMap { $0.spec["model"]?.stringValue })
        models.formUnion(configuration.providers.map(\.modelWhenUnspecified))
        models.formUnion(configuration.routes.map(\.pattern).filter { !$0.contains("*") })
        return [
            "title": "New job", "templateHint": "{{column}}", "customMode": custom, "presetMode": !custom,
            "presets": api.resolver.catalog.presets.map {
                ["name": $0.name, "description": $0.description, "selected": $0.name == preset]
            },
            "providers": configuration.providers.map { ["name": $0.name, "selected": $0.name == provider] },
            "defaultProvider": configuration.defaultProvider.name,
            "models": models.sorted(), "model": chosen("model"), "name": chosen("name"), "template": chosen("template"),
            "system": chosen("system"), "outputSchema": chosen("output_schema"), "batchSize": chosen("batch_size"),
            "groupBy": chosen("group_by"), "itemsPerRequest": chosen("items_per_request"), "deadline": chosen("deadline"),
            "imageColumn": chosen("image_column"), "documentColumn": chosen("document_column"),
            "imageDetails": ["", "low", "high", "auto"].map { detail in
                [
                    "value": detail, "label": detail.isEmpty ? "the provider's default" : detail,
                    "selected": detail == chosen("image_detail"),
                ]
                    as [String: Any]
            },
            "priorities": JobPriority.allCases.sorted { $0.rank > $1.rank }.map { priority in
                [
                    "value": priority.rawValue, "label": priority.rawValue.capitalized,
                    "selected": priority.rawValue == (chosen("priority").isEmpty ? JobPriority.normal.rawValue : chosen("priority")),
                ] as [String: Any]
            },
        ]
    }

    /// Receives the form's files into `folder` (made by ``SluiceAPI/inFolder(_:_:)``) and checks its token.
    func receiveForm(_ request: Request, into folder: String) async throws -> (ReceivedUpload, [(name: String, value: String)]) {
        guard let boundary = request.headers[.contentType].flatMap(MultipartParser.boundary(fromContentType:)) else {
            throw APIError(.unsupportedMediaType, code: "unsupported_media_type", "the form must be sent as multipart/form-data")
        }
        var upload = try await UploadReceiver(directory: folder, limit: api.configuration.maxUploadBytes).receiveMultipart(
            request.body, boundary: boundary)
        try BrowserSession.checkToken(value(BrowserSession.tokenField, in: upload.fields), request: request)
        // A file input left empty still sends a part, with no name and no bytes.
        upload.files.removeAll { $0.filename.isEmpty && $0.bytes == 0 }
        return (upload, upload.fields)
    }

    /// The form's fields that are the spec's: a preset, or the custom prompt and schema.
    func specFields(_ fields: [(name: String, value: String)]) -> [(name: String, value: String)] {
        let custom = value("mode", in: fields) == "custom"
        let dropped: Set<String> = custom ? ["preset"] : ["template", "system", "output_schema"]
        return fields.filter { !["mode", "partial", BrowserSession.tokenField].contains($0.name) && !dropped.contains($0.name) }
    }

    func value(_ name: String, in fields: [(name: String, value: String)]) -> String? {
        fields.last { $0.name == name }?.value
    }

    /// `303 See Other`: after a form, the browser loads the page with GET (a reload does not post again).
    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    /// A path on this server, or `nil`: a sign-in must never send the browser to another site.
    static func localPath(_ text: (some StringProtocol)?) -> String? {
        guard let text else { return nil }
        let path = String(text).removingPercentEncoding ?? String(text)
        // Browsers drop tabs and newlines anywhere in a URL and read `\` as `/`, so `/\t/evil`
        // is `//evil` to them: only visible ASCII is let through, and never a second slash first.
        guard path.hasPrefix("/"), !path.hasPrefix("//"), !path.contains("\\"),
            path.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else { return nil }
        return path
    }

    /// An `application/x-www-form-urlencoded` body (sign-in, sign-out, the job controls).
    static func urlEncodedForm(_ request: Request) async throws -> [(name: String, value: String)] {
        let buffer = try await request.body.collect(upTo: 64 << 10)
        return FormBody.parse(String(buffer: buffer))
    }
}
