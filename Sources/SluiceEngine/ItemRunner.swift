import Foundation
import SluiceCore
import SluiceProviders
import SluiceStore
import SluiceWire
import Synchronization

/// Runs one model call for claimed items and decides each outcome: succeeded with validated
/// output, retry later, or failed with the reason. It never writes; the worker records.
struct ItemRunner: Sendable {
    let store: any JobStore
    let clock: any SluiceClock
    let backoff: RetryBackoff
    let prices: ModelPrices
    let metrics: EngineMetrics
    let cache: CacheSettings
    let files: JobFiles

    /// Marks the error of an attempt whose reply was refused, so the next attempt tells the
    /// model what was wrong with it.
    static let rejectionPrefix = "invalid reply: "

    /// What happened to a unit of work (one item, or several packed into one call).
    enum Result: Sendable {
        case outcomes([ItemOutcome])
        /// The provider refused our credentials: pause the job rather than fail every item.
        case unauthorized(String)
        /// The job stopped (or the worker began draining) while the call waited its turn, or the
        /// store could not give a grouped item its history: the items go back unspent.
        case notStarted
        /// The provider could not take the call (5xx, or a prompt too long for its model) and the
        /// caller has a fallback to try: nothing is recorded, the items go there next.
        case fellThrough(String)
    }

    /// A unit of work ready for its call: what the result cache answered, the items left to
    /// call, the group history of a lone grouped item, and the cache keys of the items left.
    struct Prepared: Sendable {
        var answered: [ItemOutcome] = []
        var remaining: [Item]
        var history: [PromptBuilder.Turn] = []
        var cacheKeys: [Int64: String] = [:]
        /// A lone item's request, built for its key, when its call sends the same (no feedback
        /// on an earlier refused reply): built once, not twice.
        var request: ModelRequest?
        /// The images its rows name by path, read from their zip upload (``JobFiles``).
        var files: [String: ImagePart.Source]?
    }

    /// Prepares units (each with the provider it calls) for their calls: reads each lone grouped
    /// item's history, and asks the result cache — in one look-up for every unit, so a claim
    /// costs one statement, not one per call — which items' identical requests it has answered.
    /// `nil` for a unit whose history the store could not give: no fault of the item's, it goes
    /// back unspent. An item whose prompt cannot be built has no key; its call reports why.
    ///
    /// The images rows name by path are read here, for the whole claim at once; a row whose
    /// image cannot be read fails, and when the upload cannot be reached every unit goes back.
    func prepare(_ units: [(items: [Item], provider: String)], job: Job) async -> [Prepared?] {
        var prepared: [Prepared?] = []
        var keys: Set<String> = []
        var keyers: [String: ResultCacheKeys] = [:]
        var read: [Int64: Swift.Result<[String: ImagePart.Source], ImagePart.Refusal>] = [:]
        let namesFiles = JobFiles.named(by: job)
        if namesFiles {
            guard let images = try? await files.images(for: units.flatMap(\.items), job: job) else { return units.map { _ in nil } }
            read = images
        }
        for (items, provider) in units {
            // A unit whose images were left unread (the claim's budget was spent) goes back unspent.
            guard !namesFiles || items.allSatisfy({ read[$0.id] != nil }),
                let history = items.count == 1 ? try? await history(of: items[0], job: job) : []
            else {
                prepared.append(nil)
                continue
            }
            var unit = Prepared(remaining: items, history: history)
            if !read.isEmpty {
                var files: [String: ImagePart.Source] = [:]
                for item in items {
                    switch read[item.id] {
                    case .success(let images)?: files.merge(images) { first, _ in first }
                    case .failure(let refusal)?: unit.answered.append(ItemOutcome(itemID: item.id, result: .failed(refusal.description)))
                    case nil: break
                    }
                }
                unit.remaining.removeAll { if case .failure = read[$0.id] { true } else { false } }
                unit.files = files
            }
            if job.spec.cache {
                for item in unit.remaining {
                    guard let request = try? buildRequest([item], job: job, history: history, feedback: false, files: unit.files) else {
                        continue
                    }
                    let key = keyers[provider, default: ResultCacheKeys(provider: provider, scope: cache.scope(owner: job.owner))]
                        .key(for: request)
                    unit.cacheKeys[item.id] = key
                    keys.insert(key)
                    if unit.remaining.count == 1, Self.feedback(from: item) == nil { unit.request = request }
                }
            }
            prepared.append(unit)
        }
        guard !keys.isEmpty else { return prepared }
        let hits = await cachedOutputs(Array(keys))
        guard !hits.isEmpty else { return prepared }
        return prepared.map { unit in
            guard var unit else { return nil }
            unit.answered += unit.remaining.compactMap { item in
                unit.cacheKeys[item.id].flatMap { hits[$0] }.map {
                    ItemOutcome(itemID: item.id, result: .succeeded($0.output), model: $0.model, cached: true)
                }
            }
            unit.remaining.removeAll { item in unit.cacheKeys[item.id].map { hits[$0] != nil } ?? false }
            return unit
        }
    }

    /// One call for a prepared unit's remaining items: a single item with its group's history,
    /// or several rows packed into one request; the cache's answers are returned with its
    /// outcomes. Waits at `gate` for the provider's limits, then asks `mayStart` once more — the
    /// wait can be long, and a cancel or pause in the meantime must win.
    ///
    /// `callStarted` is told when the request goes out and after how long calls to this provider
    /// count as overdue (see ``CallLatency``); `callEnded`, the moment its answer is in.
    ///
    /// `account` is whose calls these are in the usage ledger: the provider's name, or its pool's
    /// for one key of a pool.
    ///
    /// `model` replaces the job's model (a fallback provider's own); `fallbackAfter`, when the
    /// caller has a fallback, is how long a blocked provider is waited for: past it, and for a
    /// failure that another provider might not have, the result is ``Result/fellThrough(_:)``.
    func run(
        _ unit: Prepared, job: Job, provider: any ModelProvider, account: String? = nil, model: String? = nil,
        fallbackAfter: Double? = nil,
        gate: ProviderGate, stop: WakeSignal? = nil,
        mayStart: @escaping @Sendable () async -> Bool,
        callStarted: @Sendable (_ overdueAfter: Double?) -> Void = { _ in }, callEnded: @Sendable () -> Void = {}
    ) async -> Result {
        let outcomes = unit.answered
        let remaining = unit.remaining
        // A fallback's answer is another model's: not kept as the answer to the job's request.
        let cacheKeys = model == nil ? unit.cacheKeys : [:]
        if remaining.isEmpty { return .outcomes(outcomes) }
        var request: ModelRequest
        do {
            request =
                try unit.request
                ?? buildRequest(remaining, job: job, history: remaining.count == 1 ? unit.history : [], feedback: true, files: unit.files)
            if let model { request.model = model }
        } catch {
            return .outcomes(outcomes + remaining.map { ItemOutcome(itemID: $0.id, result: .failed("cannot build the prompt: \(error)")) })
        }
        let waitStarted = clock.now()
        guard
            let permit = await gate.acquire(
                promptTokens: request.promptTokens(imagesBy: provider.imageTokenRule), maxReplyTokens: request.maxReplyTokens, stop: stop,
                leaveAfter: fallbackAfter)
        else {
            let blocked = fallbackAfter != nil && (gate.unavailableUntil.withLock { $0 }).map { $0 > clock.now() } ?? false
            return blocked ? .fellThrough("the provider's circuit is open or its rate limit blocks it") : .notStarted
        }
        metrics.limiterWait(provider: provider.name, seconds: clock.now().timeIntervalSince(waitStarted))
        guard await mayStart() else {
            await gate.cancel(permit)
            return .notStarted
        }
        let overdueAfter = gate.overdueAfter.withLock { $0 }
        let started = clock.now()
        callStarted(overdueAfter)
        let (answer, calls) = await CallSpan.around(request, provider: provider, job: job, items: remaining) {
            await complete(
                request, provider: provider, gate: gate, hedgeAfter: gate.hedgeAfter.withLock { $0 }, stop: stop, mayStart: mayStart)
        }
        callEnded()
        let reply: ModelReply
        switch answer {
        case .success(let answered): reply = answered
        case .failure(let error):
            metrics.call(provider: provider.name, outcome: error.metricOutcome, seconds: clock.now().timeIntervalSince(started))
            await report(error, permit: permit, gate: gate)
            if fallbackAfter != nil, error.mayBeAnothersToAnswer { return .fellThrough(error.message) }
            switch failure(error, items: remaining, job: job, started: started) {
            case .outcomes(let failed):
                let cost = Cost(provider: account ?? provider.name, model: request.model)
                return .outcomes(outcomes + charged(failed, usage: TokenUsage(), cost: cost, calls: calls))
            case let other: return other
            }
        }
        metrics.call(provider: provider.name, outcome: "succeeded", seconds: clock.now().timeIntervalSince(started))
        // A provider that reports no usage says nothing about what the call cost.
        let reported = reply.usage.promptTokens + reply.usage.completionTokens > 0
        // A hedged call's duration is not the provider's: the hedge reported its own.
        await gate.complete(
            permit, seconds: calls == 1 ? clock.now().timeIntervalSince(started) : nil,
            outcome: .succeeded(
                usedTokens: reported ? reply.usage.promptTokens + reply.usage.completionTokens : nil,
                replyTokens: reported ? reply.usage.completionTokens : nil),
            signal: reply.signal, healthy: true)
        return .outcomes(
            outcomes
                + decide(
                    reply, to: request, items: remaining, job: job, provider: account ?? provider.name, started: started,
                    cacheKeys: cacheKeys,
                    calls: calls))
    }

    /// The outcomes of `reply` to `request` for `items` — a live call's, or an upstream batch's
    /// result — charged at the tier it was served at: each row's output validated (packed rows
    /// matched by key), a reply cut empty at its limit asked again with a larger one, a refused
    /// answer retried with the reason, a fumbled pack's rows repacked.
    func decide(
        _ reply: ModelReply, to request: ModelRequest, items remaining: [Item], job: Job, provider: String, started: Date,
        cacheKeys: [Int64: String], calls: Int
    ) -> [ItemOutcome] {
        let cost = Cost(
            micros: prices.costMicros(model: request.model, usage: reply.usage, tier: reply.tier),
            listMicros: prices.listCostMicros(model: request.model, usage: reply.usage), tier: reply.tier, provider: provider,
            model: request.model)
        if case .chat = request.operation, ReplyBudget.isCutEmpty(text: reply.text, finishReason: reply.finishReason) {
            let cut = cutAtLimit(reply, request: request, items: remaining, job: job, started: started)
            return charged(cut, usage: reply.usage, cost: cost, calls: calls)
        }
        let spec = Self.spec(for: remaining[0], job: job)
        let decoder = ReplyDecoder(schema: spec.outputSchema)
        let answers: [Swift.Result<JSONValue, ReplyDecoder.Rejection>]
        if case .embeddings(let texts) = request.operation {
            answers = [Self.embeddingsAnswer(reply.embeddings, count: texts.count)]
        } else if request.answersWithTool, let tools = spec.tools {
            answers = Self.toolAnswers(reply, to: request, tools: tools)
        } else if !reply.toolCalls.isEmpty, spec.template == nil {
            // A batch line's call: its tool calls are its answer, passed back as made.
            answers = [.success(CallOutput.json(text: reply.text, toolCalls: reply.toolCalls))]
        } else if request.isPacked {
            let packed = PackedReply(text: reply.text, keys: request.rowKeys, decoder: decoder)
            answers = request.rowKeys.map { packed.answers[$0]! }
        } else {
            answers = [decoder.decode(reply.text)]
        }
        let decided = zip(remaining, answers).map { item, answer in
            let result: ItemOutcome.Result
            switch answer {
            case .success(let output): result = .succeeded(output)
            case .failure(let rejection) where remaining.count > 1:
                // The pack, not the row, failed: the row goes again, in a smaller pack, unspent.
                result = .repack(Self.rejectionPrefix + rejection.message, packSize: PackedReply.smallerPack(after: remaining.count))
            case .failure(let rejection): result = retryOrFail(Self.rejectionPrefix + rejection.message, item: item, job: job)
            }
            // A row answered inside a pack is kept only for that pack: the model saw other rows
            // beside it (perhaps another row's instructions), so it is not the answer to the row
            // sent alone, which is what the key names.
            var outcome = ItemOutcome(
                itemID: item.id, result: result, model: reply.model, startedAt: started,
                cacheKey: request.isPacked ? nil : cacheKeys[item.id])
            outcome.finishReason = reply.finishReason
            return outcome
        }
        return charged(decided, usage: reply.usage, cost: cost, calls: calls)
    }

    /// A tools job's answers: the one call's arguments, checked by the called tool's parameters —
    /// each row's, read by key from the pack's call when the call was packed.
    static func toolAnswers(_ reply: ModelReply, to request: ModelRequest, tools: JobTools) -> [Swift.Result<
        JSONValue, ReplyDecoder.Rejection
    >] {
        guard request.isPacked else {
            let answer = tools.answer(reply) { arguments, schema in ReplyDecoder(schema: schema).decode(arguments) }
            return [answer.map { tools.output(tool: $0.tool, arguments: $0.answer) }]
        }
        let packed = tools.answer(reply) { arguments, schema in
            .success(PackedReply(text: arguments, keys: request.rowKeys, decoder: ReplyDecoder(schema: schema)))
        }
        switch packed {
        case .success(let called): return request.rowKeys.map { called.answer.answers[$0]! }
        case .failure(let rejection): return request.rowKeys.map { _ in .failure(rejection) }
        }
    }

    /// The outcomes of a reply cut at its limit before it said anything — a reasoning model
    /// that spent the limit thinking: asked again with a larger one, or, at the job's cap, the
    /// job pauses (see ``ReplyBudget``). No attempt is spent either way: the reply was not
    /// wrong, and the same limit would only buy the same empty reply.
    func cutAtLimit(_ reply: ModelReply, request: ModelRequest, items: [Item], job: Job, started: Date) -> [ItemOutcome] {
        let limit = request.maxReplyTokens.map { Int($0) }
        let used = reply.usage.completionTokens
        let tokensLeft = job.spec.budget?.tokens.map {
            $0 - job.usage.promptTokens - job.usage.completionTokens - reply.usage.promptTokens - reply.usage.completionTokens
        }
        let cap = job.spec.maxReplyTokens
        let what =
            "the reply was cut at its limit of \(limit ?? used) tokens before any answer (\(reply.usage.reasoningTokens) spent reasoning)"
        let result: ItemOutcome.Result
        if let next = ReplyBudget.next(after: limit, used: used, cap: cap, tokensLeft: tokensLeft) {
            result = .raiseReplyLimit("\(what); asked again with \(next)", replyTokens: next)
        } else {
            let stop = (limit ?? used) >= cap ? "the job's max_reply_tokens (\(cap))" : "the job's token budget"
            result = .capped(
                "\(what), and \(stop) allows no more: resume with a higher max_reply_tokens or budget, or a lower reasoning_effort")
        }
        return items.map { item in
            var outcome = ItemOutcome(itemID: item.id, result: result, model: reply.model, startedAt: started)
            outcome.finishReason = reply.finishReason
            return outcome
        }
    }

    /// The answer to `request`, and how many calls it took. A call still running `hedgeAfter`
    /// seconds in — overdue, most likely hung (see ``CallLatency``) — is raced by one identical
    /// call, booked at the gate like any other: the first reply wins and the other call is
    /// cancelled. A hedge that fails gives up on the overdue call too (the item is retried, not
    /// left waiting for a hang); a first call that fails while its hedge runs waits for the
    /// hedge. No hedge goes out once `mayStart` says no (the job was cancelled or paused, the
    /// worker is draining).
    ///
    /// Why: a hung call holds its items until the provider gives up on it (a gateway's 504
    /// after 30 s or more), and hangs come at random, so some land near a job's end, where its
    /// last result waits for them. The price: a call paid twice when the first was only slow and
    /// the provider bills the one cancelled — bounded by how rarely a call runs four times the
    /// usual; each hedge counts as a call of the job, and in `sluice_provider_hedges_total`.
    func complete(
        _ request: ModelRequest, provider: any ModelProvider, gate: ProviderGate, hedgeAfter: Double?, stop: WakeSignal?,
        mayStart: @escaping @Sendable () async -> Bool = { true }
    ) async -> (answer: Swift.Result<ModelReply, ProviderFailure>, calls: Int) {
        let call = { @Sendable () async -> Swift.Result<ModelReply, ProviderFailure> in
            do throws(ProviderFailure) { return .success(try await provider.complete(request)) } catch { return .failure(error) }
        }
        guard let hedgeAfter else { return (await call(), 1) }
        let hedged = HedgeSent()
        return await withTaskGroup(of: (fromHedge: Bool, answer: Swift.Result<ModelReply, ProviderFailure>)?.self) { group in
            group.addTask { (false, await call()) }
            group.addTask { [clock, metrics] in
                guard (try? await clock.sleep(seconds: hedgeAfter)) != nil,
                    let permit = await gate.acquire(
                        promptTokens: request.promptTokens(imagesBy: provider.imageTokenRule), maxReplyTokens: request.maxReplyTokens,
                        stop: stop)
                else { return nil }
                guard !Task.isCancelled, await mayStart() else {
                    await gate.cancel(permit)
                    return nil
                }
                hedged.flag.withLock { $0 = true }
                metrics.hedge(provider: provider.name)
                let started = clock.now()
                let answer = await call()
                if case .success(let reply) = answer {
                    await gate.complete(
                        permit, seconds: clock.now().timeIntervalSince(started), outcome: .succeeded(usedTokens: nil, replyTokens: nil),
                        signal: reply.signal, healthy: true)
                } else {
                    // A failure that is the answer is reported once, by the caller; one cut short
                    // by the first call's reply says nothing of the provider.
                    await gate.complete(permit, outcome: .failed, signal: nil, healthy: nil)
                }
                return (true, answer)
            }
            var last: Swift.Result<ModelReply, ProviderFailure>?
            for await next in group {
                guard let (fromHedge, answer) = next else { continue }
                let calls = hedged.flag.withLock { $0 } ? 2 : 1
                if case .success = answer {
                    group.cancelAll()
                    return (answer, calls)
                }
                if fromHedge || calls == 1 {
                    group.cancelAll()
                    return (answer, calls)
                }
                last = answer
            }
            return (last!, 2)
        }
    }

    /// An embeddings call's output: its vectors, one per input text, or why the reply has none.
    static func embeddingsAnswer(_ vectors: [[Double]]?, count: Int) -> Swift.Result<JSONValue, ReplyDecoder.Rejection> {
        guard let vectors, vectors.count == count, vectors.allSatisfy({ !$0.isEmpty }) else {
            return .failure(ReplyDecoder.Rejection(message: "the reply does not hold one embedding for each of the \(count) inputs"))
        }
        return .success(.array(vectors.map { .array($0.map(JSONValue.double)) }))
    }

    /// Cache hits for `keys`; a store that cannot answer means no hits — the model is asked
    /// instead, which costs a call but never invents an answer.
    /// Entries older than the configured age are not served.
    func cachedOutputs(_ keys: [String]) async -> [String: CachedOutput] {
        (try? await store.cachedOutputs(keys: keys, notBefore: clock.now().addingTimeInterval(-cache.maxAgeSeconds))) ?? [:]
    }

    /// What one call cost, at the price paid and at the list price, the tier it was served at,
    /// and who served it: the provider, and the model asked for (an outcome keeps the model the
    /// reply names when there was a reply).
    struct Cost {
        var micros: Int64 = 0
        var listMicros: Int64 = 0
        var tier: Tier = .standard
        var provider: String
        var model: String
    }

    /// One call's outcomes with its cost spread over them: the call and its price on the first,
    /// the tokens shared evenly (the remainder on the first, so the sums stay exact).
    func charged(_ outcomes: [ItemOutcome], usage: TokenUsage, cost: Cost, calls: Int = 1) -> [ItemOutcome] {
        guard !outcomes.isEmpty else { return outcomes }
        let count = outcomes.count
        return outcomes.enumerated().map { index, outcome in
            var charged = outcome
            let first = index == 0
            charged.usage = usage.share(of: count, first: first)
            charged.calls = first ? calls : 0
            charged.costMicros = first ? cost.micros : 0
            charged.listCostMicros = first ? cost.listMicros : 0
            charged.tier = cost.tier
            charged.provider = cost.provider
            charged.model = charged.model ?? cost.model
            return charged
        }
    }

    /// The spec an item's call runs with: the job's for its own items, the reduce step's for
    /// the items of a reduce round.
    static func spec(for item: Item, job: Job) -> JobSpec {
        guard item.round > 0, let reducing = job.spec.reducing else { return job.spec }
        return reducing
    }

    /// The model an item's call asks for: its own request's, or the spec's.
    static func model(of item: Item, job: Job) -> String {
        guard job.spec.template == nil else { return job.spec.model }
        return RequestLine.model(of: item.input) ?? job.spec.model
    }

    /// The request for `items`: packed under their row keys when there are several, else the
    /// one item's with its group's `history`. With `feedback`, a retried item's prompt says why
    /// its last reply was refused; without, it is the item's request as the cache knows it.
    /// `files` are the images the items name by path (see ``Prepared/files``).
    func buildRequest(
        _ items: [Item], job: Job, history: [PromptBuilder.Turn], feedback: Bool, files: [String: ImagePart.Source]? = nil
    ) throws -> ModelRequest {
        let spec = Self.spec(for: items[0], job: job)
        var request: ModelRequest
        if items.count > 1 {
            request = try PromptBuilder(spec: spec).packedRequest(
                for: items.map { (PromptBuilder.rowKey(index: $0.index), $0.input) },
                previousError: feedback ? items.compactMap(Self.feedback(from:)).first : nil)
        } else {
            request = try ItemRequest.build(
                spec: spec, input: items[0].input, history: history, previousError: feedback ? Self.feedback(from: items[0]) : nil,
                files: files)
        }
        if let limit = items.compactMap(\.replyTokens).max() { request.limitReply(to: limit) }
        // One cache key per job and round (each round has its own template), and the long
        // cache for a job that has run longer than the short one lasts and still has work.
        request.promptCacheKey = "sluice-\(job.id)-\(items[0].round)"
        request.flexTier = job.spec.tier == .flex
        request.longCache =
            job.counts.pending > 0 && job.startedAt.map { clock.now().timeIntervalSince($0) > Self.shortCacheSeconds } == true
        return request
    }

    /// The back-off step an item refused for want of capacity at its tier waits as (up to 16 s
    /// with the default back-off, fully jittered, so a refused claim's items do not come back
    /// together): its attempts are not spent, so they cannot grow the wait.
    static let unavailableBackoffStep = 5

    /// How long a provider keeps a prompt prefix by default (Anthropic's short cache, and about
    /// OpenAI's): a job running longer asks for the long one.
    static let shortCacheSeconds: Double = 5 * 60

    /// The earlier turns of an item's group (none for an ungrouped item): its prompt's history.
    func history(of item: Item, job: Job) async throws -> [PromptBuilder.Turn] {
        guard let groupKey = item.groupKey else { return [] }
        return try await store.groupHistory(jobID: job.id, groupKey: groupKey, beforeIndex: item.index)
            .compactMap { earlier in earlier.output.map { PromptBuilder.Turn(input: earlier.input, output: $0) } }
    }

    /// Tells the gate how a failed call bears on the provider's limits and health.
    func report(_ failure: ProviderFailure, permit: RateLimiter.Permit, gate: ProviderGate) async {
        switch failure {
        case .rateLimited(_, let signal): await gate.complete(permit, outcome: .rateLimited, signal: signal, healthy: nil)
        case .transient: await gate.complete(permit, outcome: .failed, signal: nil, healthy: false)
        case .rejected, .unauthorized, .unavailable: await gate.complete(permit, outcome: .failed, signal: nil, healthy: nil)
        }
    }

    func failure(_ failure: ProviderFailure, items: [Item], job: Job, started: Date) -> Result {
        switch failure {
        case .unauthorized(let message):
            return .unauthorized(message)
        case .rejected(let message):
            return .outcomes(items.map { ItemOutcome(itemID: $0.id, result: .failed(message), startedAt: started) })
        case .transient(let message):
            return .outcomes(items.map { ItemOutcome(itemID: $0.id, result: retryOrFail(message, item: $0, job: job), startedAt: started) })
        case .unavailable(let message):
            // No capacity at the call's tier for now: later, unspent; the key's limits and the
            // provider's health are not in question.
            let wait = backoff.delay(attempt: Self.unavailableBackoffStep, unit: Double.random(in: 0..<1))
            let notBefore = clock.now().addingTimeInterval(wait)
            return .outcomes(items.map { ItemOutcome(itemID: $0.id, result: .deferred(message, notBefore: notBefore), startedAt: started) })
        case .rateLimited(let message, let signal):
            // Throttling is the limiter's business, not the item's: it goes back without
            // spending its attempt, not before the provider's reset.
            let notBefore = clock.now().addingTimeInterval(signal.retryDelay)
            return .outcomes(items.map { ItemOutcome(itemID: $0.id, result: .deferred(message, notBefore: notBefore), startedAt: started) })
        }
    }

    /// Another attempt while the item has attempts left, otherwise a final failure that says
    /// how many attempts were made and why the last one failed.
    func retryOrFail(_ message: String, item: Item, job: Job) -> ItemOutcome.Result {
        guard item.attempts < job.spec.maxAttempts else {
            return .failed(job.spec.maxAttempts == 1 ? message : "\(message) (after \(item.attempts) attempts)")
        }
        let wait = backoff.delay(attempt: item.attempts, unit: Double.random(in: 0..<1))
        return .retry(message, notBefore: clock.now().addingTimeInterval(wait))
    }

    /// The rejection of the previous attempt, if its reply was refused.
    static func feedback(from item: Item) -> String? {
        guard item.attempts > 1, let error = item.error, error.hasPrefix(rejectionPrefix) else { return nil }
        return String(error.dropFirst(rejectionPrefix.count))
    }
}
