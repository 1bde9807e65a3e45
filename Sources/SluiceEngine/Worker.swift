import Foundation
public import Logging
public import ServiceLifecycle
public import SluiceCore
public import SluiceProviders
public import SluiceStorage
public import SluiceStore
import Synchronization

/// Claims pending items, runs their model calls (at most `concurrency` at once in this
/// process), keeps their leases alive, and records what happened.
///
/// The unit of work is the call, not the claim: each call starts when a slot is free, and its
/// outcome is recorded (in the next group commit) the moment it ends, whatever the other items
/// claimed with it are doing — one hung call holds one slot, never a batch. Claims only fill
/// the free slots (plus ``EngineConfiguration/prefetch``), so other workers get the rest.
///
/// On graceful shutdown (SIGTERM/SIGINT under a `ServiceGroup`, or ``drain()``) it stops
/// claiming, lets calls already started finish and record, and gives unstarted items back to
/// the queue without spending their attempt. Nothing here assumes it is the only worker: every
/// decision that matters is made by the store.
public final class Worker: Service, Sendable {
    let store: any JobStore
    let providers: ProviderRegistry
    let configuration: EngineConfiguration
    let clock: any SluiceClock
    let logger: Logger
    let runner: ItemRunner
    let held = HeldItems()
    /// Where a pool's next look for its roomiest key starts: keys with equal room take turns.
    let poolTurn = Mutex(0)
    /// The providers with key pools and their keys, looked up per call: read once.
    let pools: [String: [String]]
    let permits: CallPermits
    let control: JobControl
    let gates: ProviderGates
    let recorder: OutcomeRecorder
    let running = RunningCalls()
    let state = DrainState()
    let metrics: EngineMetrics
    let dispatcher: BatchDispatcher

    /// - Parameters:
    ///   - metrics: Where the engine's counters and timers go (none by default).
    ///   - storage: Where uploads are kept, for the files a zip upload's rows name (none: the
    ///     job's upload is a path on this machine, as `sluice run` gives).
    public init(
        store: any JobStore, providers: ProviderRegistry, configuration: EngineConfiguration,
        clock: any SluiceClock = SystemClock(), logger: Logger = Logger(label: "sluice.worker"), metrics: EngineMetrics = .none,
        storage: (any FileStorage)? = nil
    ) {
        self.store = store
        self.providers = providers
        pools = providers.pools
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        self.metrics = metrics
        runner = ItemRunner(
            store: store, clock: clock, backoff: configuration.backoff, prices: providers.prices, metrics: metrics,
            cache: providers.cache, files: JobFiles(storage: storage, claimBudget: configuration.claimImageBytes))
        permits = CallPermits(configuration.concurrency)
        control = JobControl(store: store, clock: clock, ttl: configuration.statusRefreshInterval)
        gates = ProviderGates(providers: providers, clock: clock, sharedPace: configuration.sharedPace, logger: logger)
        recorder = OutcomeRecorder(
            store: store, owner: configuration.workerID, clock: clock, batch: configuration.commitBatch,
            retryFor: configuration.leaseDuration, logger: logger, metrics: metrics)
        dispatcher = BatchDispatcher(
            store: store, providers: providers, gates: gates, runner: runner, clock: clock, workerID: configuration.workerID,
            settings: configuration.batches, concurrency: configuration.concurrency, logger: logger, state: state)
    }

    /// Stops claiming; calls in flight finish and ``run()`` returns once they are recorded.
    public func drain() {
        state.begin()
    }

    /// Runs until drained or shut down. A failed claim is logged and tried again after a pause;
    /// only ``UnrecoverableStoreFailure`` ends it early — after the calls in flight are
    /// recorded — and is thrown, which stops the process.
    public func run() async throws {
        await takeBackDeadPredecessorsItems()
        let stopped = await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { heartbeat in
                heartbeat.addTask { await self.keepLeasesAlive() }
                heartbeat.addTask { await self.lendOverdueSlots() }
                heartbeat.addTask { await self.dispatcher.run() }
                if let readings = self.configuration.readings { heartbeat.addTask { await self.report(to: readings) } }
                let stopped = await withTaskGroup(of: Void.self) { recording in
                    recording.addTask { await self.recorder.run() }
                    let stopped = await self.claimUntilDrained()
                    self.recorder.finish()
                    return stopped
                }
                heartbeat.cancelAll()
                return stopped
            }
        } onGracefulShutdown: {
            self.state.begin()
        }
        // This worker no longer calls: its readings go (outside the cancelled heartbeat tasks,
        // whose database calls would be cancelled too).
        if let readings = configuration.readings {
            do { try await readings.forget(worker: configuration.workerID) } catch {
                logger.warning("forgetting provider limits failed", metadata: ["error": "\(error)"])
            }
        }
        if let stopped { throw stopped }
    }

    /// The claim loop: whenever ``ClaimBudget`` says there is room, leases that many calls'
    /// worth of items — per provider, no more than it can start within about a second — and
    /// starts a task per call. Returns once draining and every started call is recorded — with
    /// the failure that stopped it, if the store can no longer serve.
    func claimUntilDrained() async -> UnrecoverableStoreFailure? {
        var failures = FailedRounds(loop: "claim", store: store, clock: clock, logger: logger, metrics: metrics)
        let budget = ClaimBudget(concurrency: configuration.concurrency, prefetch: configuration.prefetch)
        // Every configured provider has its gate from the start: the first claim is sized by
        // their limits too.
        // A key pool's room is its keys' together: its own entry has no gate.
        var paces: [String: ProviderGate] = [:]
        for name in providers.names where pools[name] == nil {
            paces[name] = await gates.gate(for: name)
            metrics.declare(provider: name)
        }
        let gatesByName = paces
        let empty = EmptyClaims(firstWait: configuration.idleInterval)
        return await withDiscardingTaskGroup { calls -> UnrecoverableStoreFailure? in
            calls.addTask { await self.offerAgain(empty) }
            while !state.isDraining, !Task.isCancelled {
                // `.some(nil)`: draining, stop waiting.
                let room = await held.wait { [clock, state, pools] held -> ClaimBudget.Allowance?? in
                    if state.isDraining { return .some(nil) }
                    let now = clock.now()
                    let started = held.startedLastSecond(at: Int64(now.timeIntervalSince1970))
                    var providers: [String: ClaimBudget.Provider] = [:]
                    for (name, gate) in gatesByName {
                        providers[name] = ClaimBudget.Provider(
                            queued: held.queued[name] ?? 0, startsAhead: gate.startsAhead.withLock { $0 },
                            startedLastSecond: started[name] ?? 0, sharesPace: gate.sharesPace)
                    }
                    for (pool, keys) in pools { providers[pool] = ClaimBudget.Provider(pooling: keys.compactMap { providers[$0] }) }
                    // A provider that cannot start calls for longer than its fallback wait offers
                    // its first available fallback's room: its items will go there.
                    for (name, gate) in gatesByName {
                        guard let entry = self.providers[name], !entry.fallbacks.isEmpty,
                            let until = gate.unavailableUntil.withLock({ $0 }), until > now.addingTimeInterval(entry.fallbackAfterSeconds),
                            let open = entry.fallbacks.first(where: { fallback in
                                gatesByName[fallback].map { ($0.unavailableUntil.withLock { $0 }).map { $0 <= now } ?? true } ?? false
                            })
                        else { continue }
                        providers[name] = providers[open]
                    }
                    return budget.allowance(calls: held.calls, providers: providers, empty: empty.current(at: now)).map { .some($0) }
                }
                guard let room = room ?? nil, !state.isDraining else { break }
                // Read before the claim: a change committed while it ran offers every provider again.
                let quiet = store.newWork.generation
                let batch: ClaimedBatch?
                let claimStarted = clock.now()
                do {
                    batch = try await store.claim(
                        owner: configuration.workerID, limit: room.limit, allowance: room.allowance,
                        leaseDuration: configuration.leaseDuration, now: clock.now())
                    failures.succeeded()
                } catch {
                    do {
                        try await failures.waitAfter(error)
                    } catch let failure as UnrecoverableStoreFailure {
                        state.begin()
                        return failure
                    } catch {}
                    continue
                }
                guard let batch else {
                    empty.foundNothing(for: room.offered, at: clock.now())
                    if store.newWork.generation != quiet { empty.forgetAll() }
                    continue
                }
                empty.foundWork(for: batch.job.spec.provider)
                JobSpans.claimed(batch, by: configuration.workerID, from: claimStarted, to: clock.now())
                await start(Self.units(of: batch), of: batch.job, in: &calls)
            }
            return nil
        }
    }

    /// Offers the providers a claim found nothing for again (see ``EmptyClaims``): all of them
    /// as soon as this process commits a change that may have made work (a job read, an item
    /// given back or retried, a resume), each when its mark runs out — work made by other
    /// processes, or come due, like a back-off's end. Runs until draining (when it wakes the
    /// claim loop to stop) or cancelled.
    func offerAgain(_ empty: EmptyClaims) async {
        while !Task.isCancelled, !state.isDraining {
            let work = store.newWork.generation
            let marks = empty.marked.generation
            let expiry = empty.nextExpiry(after: clock.now())
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.store.newWork.wait(after: work) }
                group.addTask { await empty.marked.wait(after: marks) }
                group.addTask { await self.state.draining.wait(after: 0) }
                if let expiry {
                    group.addTask { try? await self.clock.sleep(until: expiry) }
                }
                await group.next()
                group.cancelAll()
            }
            if store.newWork.generation != work { empty.forgetAll() }
            held.recheck()
        }
        // Draining may have begun just after the last look: the claim loop, waiting for room,
        // must see it once more, or it waits for ever.
        held.recheck()
    }

    /// The model calls a claim makes: one per item, or packs of up to `items_per_request` rows
    /// in input order — smaller for rows a packed reply failed (each keeps its own
    /// ``Item/packSize``), so those go again in packs of their size, down to one row per call.
    static func units(of batch: ClaimedBatch) -> [[Item]] {
        let size = batch.job.spec.itemsPerRequest
        guard size > 1 else { return batch.items.map { [$0] } }
        var packs: [Int: [Item]] = [:]
        // A reduce round's items are calls of their own.
        for item in batch.items { packs[item.round > 0 ? 1 : min(size, item.packSize ?? size), default: []].append(item) }
        return packs.keys.sorted(by: >).flatMap { limit in
            let rows = packs[limit]!
            return stride(from: 0, to: rows.count, by: limit).map { Array(rows[$0..<min($0 + limit, rows.count)]) }
        }
    }

    /// Holds the claimed units and starts a task per call; fails at once the calls no
    /// configured provider can serve. The result cache is asked once for the whole claim, before
    /// any call takes a slot: an answered item never waits for one.
    func start(_ units: [[Item]], of job: Job, in calls: inout DiscardingTaskGroup) async {
        if job.spec.provider != JobSpec.routedProvider, providers[job.spec.provider] == nil {
            held.add(units.flatMap { $0.map(\.id) }, calls: units.count)
            await pause(
                job.id, reason: "provider '\(job.spec.provider)' is not configured (known: \(providers.names.joined(separator: ", ")))")
            await giveBack(units.flatMap { $0 }, calls: units.count)
            return
        }
        // Gates looked up once per provider in the claim, not once per call.
        var gateByName: [String: ProviderGate] = [:]
        var routed: [(items: [Item], provider: String)] = []
        var unserved: [[Item]] = []
        var queued: [String: Int] = [:]
        for unit in units {
            var name = providerName(for: unit, job: job)
            if let pool = name, let keys = pools[pool] { name = await roomiestKey(keys, queued: queued) }
            if let routed = name { name = await availableProvider(routed) }
            if let name, gateByName[name] == nil { gateByName[name] = await gates.gate(for: name) }
            guard let name, providers[name] != nil, gateByName[name] != nil else {
                unserved.append(unit)
                continue
            }
            routed.append((unit, name))
            queued[name, default: 0] += 1
        }
        held.add(units.flatMap { $0.map(\.id) }, calls: units.count, queued: queued)
        for unit in unserved {
            let model = ItemRunner.model(of: unit[0], job: job)
            let reason = "no configured provider serves model '\(model)' (known: \(providers.names.joined(separator: ", ")))"
            let outcomes = unit.map { ItemOutcome(itemID: $0.id, result: .failed(reason)) }
            calls.addTask { await self.finish(unit, job: job, outcomes: outcomes) }
        }
        // Prompts, cache keys and the look-up are the claim's own task's work, not the loop's:
        // the next claim need not wait for them.
        calls.addTask { [gateByName] in await self.prepareAndCall(routed, of: job, gates: gateByName) }
    }

    /// The key of a pool with the most room for one more call: the calls its limiter would start
    /// soon (without a limit, as many as any other's) less those waiting to go out through it —
    /// held from earlier claims and given it by this one. Keys with equal room take turns.
    func roomiestKey(_ keys: [String], queued: [String: Int]) async -> String {
        let start = poolTurn.withLock { turn in
            turn = (turn + 1) % keys.count
            return turn
        }
        var best = keys[0]
        var bestRoom = -Double.infinity
        for offset in keys.indices {
            let key = keys[(start + offset) % keys.count]
            let ahead = await gates.gate(for: key)?.startsAhead.withLock { $0 } ?? 0
            let room = ahead - Double(held.queued(for: key) + (queued[key] ?? 0))
            if room > bestRoom { (best, bestRoom) = (key, room) }
        }
        return best
    }

    /// Prepares a claim's units (one cache look-up for all of them) and starts a task per call.
    /// A lone grouped item reads its group's history in its own task: one read each, which
    /// would hold up the rest if made in turn here.
    func prepareAndCall(_ units: [(items: [Item], provider: String)], of job: Job, gates: [String: ProviderGate]) async {
        let grouped = { (unit: [Item]) in unit.count == 1 && unit[0].groupKey != nil }
        let ungrouped = units.filter { !grouped($0.items) }
        var prepared = Array(zip(ungrouped.map { ($0.items, $0.provider) }, await runner.prepare(ungrouped, job: job)))
        prepared += units.filter { grouped($0.items) }.map { (($0.items, $0.provider), nil) }
        await withDiscardingTaskGroup { calls in
            for ((unit, name), ready) in prepared {
                let provider = (name, providers[name]!.provider)
                let gate = gates[name]!
                calls.addTask {
                    // Only a grouped unit comes here unprepared; `nil` after preparing: no history.
                    var ready = ready
                    if ready == nil { ready = await self.runner.prepare([(unit, name)], job: job)[0] }
                    guard let ready else { return await self.giveBack(unit, unstarted: name) }
                    await self.call(ready, of: unit, job: job, provider: provider, gate: gate)
                }
            }
        }
    }

    /// One call from slot to record: waits for a slot (unless the cache answered every item),
    /// makes the call, frees the slot the moment the call ends, then hands the outcome to the
    /// group commit.
    func call(
        _ ready: ItemRunner.Prepared, of unit: [Item], job: Job, provider: (name: String, provider: any ModelProvider),
        gate: ProviderGate
    ) async {
        let mayStart: @Sendable () async -> Bool = { [state, control] in
            guard !state.isDraining else { return false }
            return await control.mayStart(jobID: job.id)
        }
        if ready.remaining.isEmpty {
            guard await mayStart() else { return await giveBack(unit, unstarted: provider.name) }
            return await finish(unit, job: job, outcomes: ready.answered, unstarted: provider.name)
        }
        guard await permits.acquire() else { return await giveBack(unit, unstarted: provider.name) }
        guard await mayStart() else {
            permits.release()
            return await giveBack(unit, unstarted: provider.name)
        }
        let watch = CallWatch()
        let callStarted: @Sendable (Double?) -> Void = { overdueAfter in
            // A fallback's call after the first: the item went out once, and its slot is lent once.
            if !watch.started { self.held.started(provider.name, at: Int64(self.clock.now().timeIntervalSince1970)) }
            watch.started = true
            guard let overdueAfter, !watch.lent else { return }
            watch.id = self.running.start(deadline: self.clock.now().addingTimeInterval(overdueAfter)) {
                // Overdue, most likely hung: the call goes on, but its slot starts the next item
                // (at most `concurrency` calls at once are set aside).
                self.held.setAside(calls: 1)
                self.permits.release()
            }
        }
        let callEnded: @Sendable () -> Void = { if let id = watch.id { watch.lent = self.running.end(id) } }
        // The providers still to try, in order, should this one fail in a way another might not.
        var chain = fallbackChain(after: provider.name, job: job, unit: unit)
        var current = (provider: provider, gate: gate)
        var result: ItemRunner.Result
        while true {
            let account = providers.account(of: current.provider.name)
            result = await runner.run(
                ready, job: job, provider: current.provider.provider, account: account,
                model: account == providerName(for: unit, job: job) ? nil : providers[account]?.defaultModel,
                fallbackAfter: chain.isEmpty ? nil : providers[account]?.fallbackAfterSeconds ?? 30,
                gate: current.gate, stop: state.draining, mayStart: mayStart, callStarted: callStarted, callEnded: callEnded)
            guard case .fellThrough(let reason) = result, let next = await nextAvailable(&chain) else { break }
            logger.info(
                "a call falls back to another provider",
                metadata: ["job": "\(job.id)", "from": "\(current.provider.name)", "to": "\(next.name)", "reason": "\(reason)"])
            current = ((next.name, providers[next.name]!.provider), next.gate)
        }
        if case .unauthorized(let message) = result {
            // Pause before giving the slot back, so no other item of the job starts.
            await pause(job.id, reason: "the provider refused the credentials: \(message)")
        }
        if !watch.lent { permits.release() }
        let calls = watch.lent ? 0 : 1
        let unstarted = watch.started ? nil : provider.name
        switch result {
        case .outcomes(let outcomes): await finish(unit, job: job, outcomes: outcomes, calls: calls, unstarted: unstarted)
        case .unauthorized, .notStarted, .fellThrough: await giveBack(unit, calls: calls, unstarted: unstarted)
        }
    }

    /// The fallbacks a unit's call through `provider` may still go to: the job's provider's
    /// list, after `provider` when the call is already a fallback's.
    func fallbackChain(after provider: String, job: Job, unit: [Item]) -> [String] {
        guard let primary = providerName(for: unit, job: job) else { return [] }
        let all = providers.fallbacks(of: primary)
        let account = providers.account(of: provider)
        guard let at = all.firstIndex(of: account) else { return account == primary ? all : [] }
        return Array(all[(at + 1)...])
    }

    /// The first provider of `chain` that can start a call now (a pool's roomiest key), taken off
    /// the chain with those skipped; `nil` when none can.
    func nextAvailable(_ chain: inout [String]) async -> (name: String, gate: ProviderGate)? {
        let now = clock.now()
        while !chain.isEmpty {
            var name = chain.removeFirst()
            if let keys = pools[name] { name = await roomiestKey(keys, queued: [:]) }
            guard providers[name] != nil, let gate = await gates.gate(for: name) else { continue }
            if (gate.unavailableUntil.withLock { $0 }).map({ $0 <= now }) ?? true { return (name, gate) }
        }
        return nil
    }

    /// Where a unit routed to `name` goes: there, unless no call can start there for longer
    /// than its provider's fallback wait (an open circuit, a 429's block) and a fallback can.
    func availableProvider(_ name: String) async -> String {
        let account = providers.account(of: name)
        var chain = providers.fallbacks(of: account)
        guard !chain.isEmpty, let wait = providers[account]?.fallbackAfterSeconds, let gate = await gates.gate(for: name),
            let until = gate.unavailableUntil.withLock({ $0 }), until > clock.now().addingTimeInterval(wait)
        else { return name }
        return await nextAvailable(&chain)?.name ?? name
    }

    /// Records a call's outcomes and lets go of its items; `unstarted` names the provider it was
    /// queued for when the request never went out.
    func finish(_ unit: [Item], job: Job, outcomes: [ItemOutcome], calls: Int = 1, unstarted: String? = nil) async {
        let attempts = Dictionary(unit.map { ($0.id, $0.attempts) }, uniquingKeysWith: { first, _ in first })
        let fenced = outcomes.map { outcome in
            var outcome = outcome
            outcome.attempt = attempts[outcome.itemID]
            return outcome
        }
        _ = await recorder.record(fenced, jobID: job.id)
        held.remove(unit.map(\.id), calls: calls, unstarted: unstarted)
    }

    /// Returns items whose calls never started, without spending their attempts.
    func giveBack(_ unit: [Item], calls: Int = 1, unstarted: String? = nil) async {
        let ids = unit.map(\.id)
        do {
            try await store.release(itemIDs: ids, owner: configuration.workerID, now: clock.now())
        } catch {
            logger.error("releasing items failed", metadata: ["error": "\(error)"])
        }
        held.remove(ids, calls: calls, unstarted: unstarted)
    }

    /// Extends every held lease well before it expires, until cancelled.
    func keepLeasesAlive() async {
        var unextended: Set<Int64> = []
        while !Task.isCancelled {
            do { try await clock.sleep(seconds: configuration.heartbeatInterval) } catch { return }
            let ids = held.all
            // Not extended last time and still held now: an item recorded just as the heartbeat
            // ran is not leased either, but it has long left what this worker holds.
            let lost = unextended.intersection(ids)
            if !lost.isEmpty { logger.warning("lost leases", metadata: ["lost": "\(lost.count)"]) }
            unextended = []
            guard !ids.isEmpty else { continue }
            do {
                let until = clock.now().addingTimeInterval(configuration.leaseDuration)
                let kept = try await store.extendLeases(itemIDs: ids, owner: configuration.workerID, until: until)
                unextended = Set(ids).subtracting(kept)
            } catch {
                logger.error("heartbeat failed", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Every heartbeat, writes what the gates know of the provider keys' limits, until cancelled.
    func report(to readings: any ProviderReadingStore) async {
        while !Task.isCancelled {
            do {
                try await readings.report(
                    await gates.readings(worker: configuration.workerID), worker: configuration.workerID, now: clock.now())
            } catch {
                logger.warning("reporting provider limits failed", metadata: ["error": "\(error)"])
            }
            do { try await clock.sleep(seconds: configuration.heartbeatInterval) } catch { break }
        }
    }

    /// Once a second, gives the slots of overdue calls to the next items, until cancelled.
    func lendOverdueSlots() async {
        while (try? await clock.sleep(seconds: 1)) != nil {
            running.sweep(now: clock.now(), limit: configuration.concurrency)
        }
    }

    /// Takes back at once the items leased to earlier workers on this machine whose process is
    /// gone (a `kill -9`, a crash), instead of leaving them to the reaper when the lease expires.
    func takeBackDeadPredecessorsItems() async {
        guard let me = WorkerIdentity(owner: configuration.workerID) else { return }
        do {
            for owner in try await store.leaseOwners() {
                guard let other = WorkerIdentity(owner: owner), other.host == me.host, other.pid != me.pid,
                    !Self.processExists(other.pid)
                else { continue }
                let count = try await store.releaseLeases(
                    owner: owner, reason: "the worker running it stopped before it finished", now: clock.now())
                if count > 0 { logger.notice("took back a stopped worker's items", metadata: ["owner": "\(owner)", "items": "\(count)"]) }
            }
        } catch {
            logger.error("taking back a stopped worker's items failed", metadata: ["error": "\(error)"])
        }
    }

    /// Whether a process with this pid exists (signal 0 checks without sending anything).
    static func processExists(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }

    /// The provider a unit's call goes to: the spec's, or the one its model routes to.
    func providerName(for unit: [Item], job: Job) -> String? {
        guard job.spec.provider == JobSpec.routedProvider else { return job.spec.provider }
        return providers.providerName(forModel: ItemRunner.model(of: unit[0], job: job))
    }

    func pause(_ jobID: String, reason: String) async {
        logger.error("pausing job", metadata: ["job": "\(jobID)", "reason": "\(reason)"])
        do {
            let job = try await store.pause(jobID: jobID, reason: reason, now: clock.now())
            control.note(jobID: jobID, status: job.status)
        } catch {
            logger.error("pausing failed", metadata: ["job": "\(jobID)", "error": "\(error)"])
        }
    }
}
