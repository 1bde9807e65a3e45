import Foundation
import Logging
import SluiceCore
import SluiceProviders
import SluiceStore
import Synchronization

/// Sends the items of batch- and auto-tier jobs through their provider's own batch API, and
/// brings the answers back.
///
/// Each upstream batch is a row in the database (``UpstreamBatchStore``) holding its items'
/// leases, so nothing here is the only copy of anything: a batch submitted by a worker that
/// then stops is polled by whichever worker looks next; a submission cut short (the row still
/// `submitting` when its hold lapses) gives its items back. Results are recorded through the
/// same statement as live calls' (the lease and the attempt in its `WHERE`), so each item's
/// result counts exactly once however many workers read the same results file.
///
/// One pass: submit one batch's worth of a job's pending items, look at one batch that is due,
/// and move auto jobs whose deadline nears to live calls. Rests only when a pass found nothing.
struct BatchDispatcher: Sendable {
    let store: any JobStore
    let providers: ProviderRegistry
    let gates: ProviderGates
    let runner: ItemRunner
    let clock: any SluiceClock
    let workerID: String
    let settings: BatchSettings
    let concurrency: Int
    let logger: Logger
    let state: DrainState

    /// How long a worker holds a batch it is submitting or looking at.
    static let holdSeconds: Double = 300
    /// How long items in an upstream batch stay leased to it: beyond a batch API's 24-hour
    /// window and a week of polling, so only a batch lost for good lets the reaper take them.
    static let itemLeaseSeconds: Double = 8 * 86_400

    /// The providers of this worker that have a batch API.
    var batching: [String: any BatchAPI] {
        var apis: [String: any BatchAPI] = [:]
        for name in providers.names {
            if let provider = providers[name]?.provider as? any BatchingProvider { apis[name] = provider.batchAPI }
        }
        return apis
    }

    func run() async {
        let apis = batching
        guard !apis.isEmpty else { return }
        while !Task.isCancelled, !state.isDraining {
            // Each step runs to its end even when the worker stops: a submission cut in half
            // could leave a batch the provider bills with no row to find it by.
            let submitted = await Task { await submitOne(apis) }.value
            let looked = await Task { await lookAtOneDue(apis) }.value
            await switchAutoJobs()
            if !submitted, !looked {
                let work = store.newWork.generation
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await self.store.newWork.wait(after: work) }
                    group.addTask { await self.state.draining.wait(after: 0) }
                    group.addTask { try? await self.clock.sleep(seconds: self.settings.idleInterval) }
                    await group.next()
                    group.cancelAll()
                }
            }
        }
    }

    // MARK: - Submitting

    /// Leases a batch's worth of one job's pending items and sends them upstream. Whether it
    /// found any.
    func submitOne(_ apis: [String: any BatchAPI]) async -> Bool {
        let batchID = "ub_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let now = clock.now()
        // A provider whose batch queue is full takes nothing more until a batch of it ends. An
        // empty queue takes one call whatever its size, or a large call could never go.
        var room: [String: (tokens: Double, empty: Bool)] = [:]
        for name in apis.keys {
            guard let limit = providers[name]?.limits.batchQueueTokens else {
                room[name] = (.infinity, false)
                continue
            }
            let queued = (try? await store.upstreamTokens(provider: name)) ?? limit
            if queued < limit { room[name] = (Double(limit - queued), queued == 0) }
        }
        guard !room.isEmpty else { return false }
        let claimed: ClaimedBatch?
        do {
            claimed = try await store.claimForUpstream(
                batchID: batchID, providers: room.keys.sorted(), worker: workerID, maxItems: settings.maxItems,
                leaseSeconds: Self.holdSeconds, itemLeaseSeconds: Self.itemLeaseSeconds, now: now)
        } catch {
            logger.error("claiming items for a provider's batch API failed", metadata: ["error": "\(error)"])
            return false
        }
        guard let claimed, let api = apis[claimed.job.spec.provider], let tokenRoom = room[claimed.job.spec.provider] else {
            return false
        }
        let job = claimed.job
        let owner = UpstreamBatch.itemOwner(batchID)
        let units = Worker.units(of: claimed)
        let prepared = await runner.prepare(units.map { ($0, job.spec.provider) }, job: job)
        var answered: [ItemOutcome] = []
        var calls: [BatchCall] = []
        var held: [String: [Int64]] = [:]
        var leftOver: [Int64] = []
        var bytes = 0
        var tokens = 0.0
        let rule = providers[job.spec.provider]?.provider.imageTokenRule ?? .pixels
        for (unit, ready) in zip(units, prepared) {
            guard let ready else {
                leftOver += unit.map(\.id)
                continue
            }
            answered += ready.answered
            guard !ready.remaining.isEmpty else { continue }
            guard
                let request = try? ready.request
                    ?? runner.buildRequest(
                        ready.remaining, job: job, history: ready.remaining.count == 1 ? ready.history : [], feedback: true,
                        files: ready.files)
            else {
                answered += ready.remaining.map { ItemOutcome(itemID: $0.id, result: .failed("cannot build the prompt")) }
                continue
            }
            let call = BatchCall(customID: "u\(ready.remaining[0].id)", request: request)
            let size = api.size(of: call)
            let callTokens = request.promptTokens(imagesBy: rule) + (request.maxReplyTokens ?? 0)
            // One operation per batch, and within the provider's limits — requests, bytes, queued
            // tokens: the rest waits for the next.
            guard calls.count < api.maxRequests, bytes + size <= api.maxBytes,
                tokens + callTokens <= tokenRoom.tokens || (calls.isEmpty && tokenRoom.empty),
                calls.first.map({ $0.request.operation.isSameKind(as: request.operation) }) ?? true
            else {
                leftOver += ready.remaining.map(\.id)
                continue
            }
            calls.append(call)
            held[call.customID] = ready.remaining.map(\.id)
            bytes += size
            tokens += callTokens
        }
        if !answered.isEmpty { await record(answered, of: claimed.items, owner: owner) }
        if !leftOver.isEmpty { try? await store.release(itemIDs: leftOver, owner: owner, now: clock.now()) }
        guard !calls.isEmpty else {
            try? await store.closeUpstreamBatch(batchID: batchID, now: clock.now())
            return true
        }
        do throws(ProviderFailure) {
            let upstreamID = try await api.submit(calls, label: batchID)
            try? await store.markSubmitted(
                batchID: batchID, upstreamID: upstreamID, units: held, tokens: Int(tokens),
                nextPollAt: clock.now().addingTimeInterval(settings.nextPoll(after: 1)))
            logger.info(
                "sent items to a provider's batch API",
                metadata: ["job": "\(job.id)", "batch": "\(batchID)", "upstream": "\(upstreamID)", "calls": "\(calls.count)"])
        } catch {
            await submissionFailed(error, batchID: batchID, job: job, items: claimed.items, held: held)
        }
        return true
    }

    /// A batch the provider would not take: a request it refuses fails its items as a live call's
    /// refusal would; anything else (throttled, unavailable, down) gives them back for later.
    func submissionFailed(_ failure: ProviderFailure, batchID: String, job: Job, items: [Item], held: [String: [Int64]]) async {
        logger.warning("a provider refused a batch", metadata: ["job": "\(job.id)", "batch": "\(batchID)", "error": "\(failure.message)"])
        let owner = UpstreamBatch.itemOwner(batchID)
        switch failure {
        case .rejected(let message):
            let ids = Set(held.values.joined())
            await record(
                items.filter { ids.contains($0.id) }.map { ItemOutcome(itemID: $0.id, result: .failed(message)) }, of: items, owner: owner)
        case .unauthorized(let message):
            _ = try? await store.pause(jobID: job.id, reason: "the provider refused the credentials: \(message)", now: clock.now())
        case .transient, .rateLimited, .unavailable:
            break
        }
        try? await store.closeUpstreamBatch(batchID: batchID, now: clock.now())
    }

    // MARK: - Looking at a batch

    /// Looks at the next due batch: stops it if its job was cancelled or went live, reads its
    /// results once it ended. Whether there was one.
    func lookAtOneDue(_ apis: [String: any BatchAPI]) async -> Bool {
        let batch: UpstreamBatch?
        do {
            batch = try await store.claimDueUpstreamBatch(worker: workerID, leaseSeconds: Self.holdSeconds, now: clock.now())
        } catch {
            logger.error("finding a due upstream batch failed", metadata: ["error": "\(error)"])
            return false
        }
        guard let batch else { return false }
        guard let api = apis[batch.provider] else {
            // Another worker's provider: let it be, and look again later.
            try? await store.reschedule(
                batchID: batch.id, status: batch.status, nextPollAt: clock.now().addingTimeInterval(settings.maxPollInterval))
            return true
        }
        guard batch.status != .submitting, let upstreamID = batch.upstreamID else {
            // Its worker stopped while submitting: the provider may or may not have it. The items
            // go back (a batch that did reach the provider is labelled with the row's id).
            logger.warning("a batch submission did not finish; its items go back", metadata: ["batch": "\(batch.id)"])
            try? await store.closeUpstreamBatch(batchID: batch.id, now: clock.now())
            return true
        }
        do throws(ProviderFailure) {
            var status = batch.status
            let stop = batch.jobStatus == .cancelling || batch.jobStatus == .cancelled || batch.jobWentLive || batch.jobStatus.isFinal
            if status == .running, stop {
                // Asked once; a batch that ended meanwhile refuses (409), and is read below all the same.
                do throws(ProviderFailure) {
                    try await api.cancel(upstreamID)
                    logger.info("stopped an upstream batch", metadata: ["batch": "\(batch.id)", "upstream": "\(upstreamID)"])
                } catch {
                    logger.notice("stopping an upstream batch failed", metadata: ["batch": "\(batch.id)", "error": "\(error.message)"])
                }
                status = .cancelling
            }
            switch try await api.state(of: upstreamID) {
            case .running:
                try? await store.reschedule(
                    batchID: batch.id, status: status, nextPollAt: clock.now().addingTimeInterval(settings.nextPoll(after: batch.polls)))
            case .failed(let reason):
                await failAll(batch, reason: "the provider failed the batch: \(reason)")
            case .ended:
                try await readResults(batch, upstreamID: upstreamID, api: api)
            }
        } catch {
            // The provider could not answer now: look again later; the items stay where they are.
            logger.warning("looking at an upstream batch failed", metadata: ["batch": "\(batch.id)", "error": "\(error.message)"])
            try? await store.reschedule(
                batchID: batch.id,
                status: batch.status == .running && (batch.jobStatus.isFinal || batch.jobWentLive) ? .cancelling : batch.status,
                nextPollAt: clock.now().addingTimeInterval(settings.nextPoll(after: batch.polls)))
        }
        return true
    }

    /// Records every result of an ended batch against its items, then gives back the items it
    /// has no result for (it expired, or was stopped, before running them) without spending
    /// their attempt.
    func readResults(_ batch: UpstreamBatch, upstreamID: String, api: any BatchAPI) async throws(ProviderFailure) {
        let ids = batch.units.values.flatMap { $0 }
        guard let (job, items) = try? await store.upstreamItems(batchID: batch.id, itemIDs: ids) else {
            try? await store.closeUpstreamBatch(batchID: batch.id, now: clock.now())
            return
        }
        let byID = Dictionary(uniqueKeysWithValues: items.map { ($0.id, $0) })
        let units: [(customID: String, items: [Item])] = batch.units.sorted { $0.key < $1.key }.compactMap { customID, ids in
            let held = ids.compactMap { byID[$0] }
            return held.count == ids.count ? (customID, held) : nil
        }
        let prepared = await runner.prepare(units.map { ($0.items, job.spec.provider) }, job: job)
        // The requests as submitted, rebuilt from the items (to read their replies), and the
        // result cache's keys for the answers.
        var requests: [String: ModelRequest] = [:]
        var cacheKeys: [String: [Int64: String]] = [:]
        for (unit, prepared) in zip(units, prepared) {
            guard let prepared else { continue }
            guard
                let request = try? runner.buildRequest(
                    unit.items, job: job, history: unit.items.count == 1 ? prepared.history : [], feedback: true,
                    files: prepared.files)
            else { continue }
            requests[unit.customID] = request
            cacheKeys[unit.customID] = prepared.cacheKeys
        }
        let results = try await api.results(of: upstreamID, calls: requests)
        var outcomes: [ItemOutcome] = []
        for unit in units {
            guard let result = results[unit.customID], let request = requests[unit.customID] else { continue }
            switch result {
            case .success(var reply):
                reply.tier = .batch
                outcomes += runner.decide(
                    reply, to: request, items: unit.items, job: job, provider: batch.provider, started: batch.createdAt,
                    cacheKeys: cacheKeys[unit.customID] ?? [:], calls: 1)
            case .failure(let failure):
                let decided: [ItemOutcome]
                switch runner.failure(failure, items: unit.items, job: job, started: batch.createdAt) {
                case .outcomes(let failed): decided = failed
                case .unauthorized(let message):
                    decided = unit.items.map { ItemOutcome(itemID: $0.id, result: .failed(message)) }
                case .notStarted, .fellThrough: decided = []
                }
                let cost = ItemRunner.Cost(tier: .batch, provider: batch.provider, model: request.model)
                outcomes += runner.charged(decided, usage: TokenUsage(), cost: cost, calls: 1)
            }
        }
        await record(outcomes, of: items, owner: batch.itemOwner)
        logger.info(
            "read an upstream batch's results",
            metadata: ["job": "\(job.id)", "batch": "\(batch.id)", "results": "\(results.count)", "calls": "\(batch.units.count)"])
        try? await store.closeUpstreamBatch(batchID: batch.id, now: clock.now())
    }

    /// A batch the provider failed whole (its validation refused it — a queue over the
    /// provider's enqueued-token limit, say): not the items' own fault, so they go back for
    /// another batch, each with an attempt spent — a batch that fails every time fails its items
    /// at their last attempt, with the reason, instead of going round for ever.
    func failAll(_ batch: UpstreamBatch, reason: String) async {
        try? await store.closeUpstreamBatch(batchID: batch.id, spending: reason, now: clock.now())
    }

    /// Records outcomes under the batch's lease, each fenced by the attempt its item was on.
    func record(_ outcomes: [ItemOutcome], of items: [Item], owner: String) async {
        guard !outcomes.isEmpty else { return }
        let attempts = Dictionary(items.map { ($0.id, $0.attempts) }, uniquingKeysWith: { first, _ in first })
        let fenced = outcomes.map { outcome in
            var outcome = outcome
            outcome.attempt = attempts[outcome.itemID]
            return outcome
        }
        do {
            let recorded = try await store.record(fenced, owner: owner, now: clock.now())
            runner.metrics.recorded(fenced.filter { recorded.ids.contains($0.itemID) })
        } catch {
            // Not recorded: the items stay leased to the batch, whose row is still there to read again.
            logger.error("recording an upstream batch's results failed", metadata: ["error": "\(error)"])
        }
    }

    // MARK: - Auto

    /// Sends the rest of each auto job live once its deadline would otherwise be missed (see
    /// ``AutoTierSwitch``).
    func switchAutoJobs() async {
        let now = clock.now()
        guard let jobs = try? await store.autoJobs(now: now), !jobs.isEmpty else { return }
        for job in jobs {
            let rate = await callsPerSecond(provider: job.provider)
            guard
                AutoTierSwitch.mustGoLive(
                    now: now, deadline: job.deadline, unfinished: job.unfinished, rowsPerCall: job.itemsPerRequest, callsPerSecond: rate,
                    margin: settings.autoMargin)
            else { continue }
            logger.notice("an auto job goes live to meet its deadline", metadata: ["job": "\(job.id)", "unfinished": "\(job.unfinished)"])
            try? await store.goLive(jobID: job.id, now: now)
        }
    }

    /// The calls a second the provider's limits allow now; without a known limit, this worker's
    /// slots at ten seconds a call (a slow provider's pace, so the estimate errs early).
    func callsPerSecond(provider: String) async -> Double {
        if let gate = await gates.gate(for: provider), let ahead = gate.startsAhead.withLock({ $0 }), ahead > 0 {
            return ahead / ClaimBudget.horizon
        }
        return Double(concurrency) / 10
    }
}

extension ModelRequest.Operation {
    /// Both chat, or both embeddings: calls one upstream batch may hold together.
    func isSameKind(as other: Self) -> Bool {
        switch (self, other) {
        case (.chat, .chat), (.embeddings, .embeddings): true
        default: false
        }
    }
}
