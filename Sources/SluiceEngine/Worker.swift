import Foundation
import Logging
import ServiceLifecycle
import SluiceCore
import SluiceProviders
import SluiceStore
import Synchronization

/// Claims batches of pending items, runs their model calls (at most `concurrency` at once in
/// this process), keeps their leases alive, and records what happened.
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
    let permits: CallPermits
    let control: JobControl
    let gates: ProviderGates
    let state = DrainState()

    public init(
        store: any JobStore, providers: ProviderRegistry, configuration: EngineConfiguration,
        clock: any SluiceClock = SystemClock(), logger: Logger = Logger(label: "sluice.worker")
    ) {
        self.store = store
        self.providers = providers
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        runner = ItemRunner(store: store, clock: clock, backoff: configuration.backoff)
        permits = CallPermits(configuration.concurrency)
        control = JobControl(store: store, clock: clock, ttl: configuration.statusRefreshInterval)
        gates = ProviderGates(providers: providers, clock: clock)
    }

    /// Stops claiming; calls in flight finish and ``run()`` returns once they are recorded.
    public func drain() {
        state.begin()
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { loops in
                loops.addTask { await self.keepLeasesAlive() }
                await withDiscardingTaskGroup { batches in
                    while !state.isDraining, !Task.isCancelled {
                        await held.waitUntilBelow(configuration.concurrency)
                        if state.isDraining { break }
                        let batch: ClaimedBatch?
                        do {
                            batch = try await store.claim(
                                owner: configuration.workerID, limit: .max, leaseDuration: configuration.leaseDuration,
                                now: clock.now())
                        } catch {
                            logger.error("claim failed", metadata: ["error": "\(error)"])
                            batch = nil
                        }
                        guard let batch else {
                            try? await clock.sleep(seconds: configuration.idleInterval)
                            continue
                        }
                        await held.add(batch.items.map(\.id))
                        batches.addTask { await self.process(batch) }
                    }
                }
                loops.cancelAll()
            }
        } onGracefulShutdown: {
            self.state.begin()
        }
    }

    /// Extends every held lease well before it expires, until cancelled.
    func keepLeasesAlive() async {
        while !Task.isCancelled {
            do { try await clock.sleep(seconds: configuration.heartbeatInterval) } catch { return }
            let ids = await held.all
            guard !ids.isEmpty else { continue }
            do {
                let until = clock.now().addingTimeInterval(configuration.leaseDuration)
                let kept = try await store.extendLeases(itemIDs: ids, owner: configuration.workerID, until: until)
                // Items recorded while the heartbeat ran are no longer leased; only those still
                // held here and not extended were taken by another worker.
                let stillHeld = Set(await held.all)
                let lost = ids.filter { !kept.contains($0) && stillHeld.contains($0) }
                if !lost.isEmpty { logger.warning("lost leases", metadata: ["lost": "\(lost.count)"]) }
            } catch {
                logger.error("heartbeat failed", metadata: ["error": "\(error)"])
            }
        }
    }

    func process(_ batch: ClaimedBatch) async {
        let job = batch.job
        let allIDs = batch.items.map(\.id)
        if job.spec.provider != JobSpec.routedProvider, providers[job.spec.provider] == nil {
            await pause(
                job.id, reason: "provider '\(job.spec.provider)' is not configured (known: \(providers.names.joined(separator: ", ")))")
            await release(allIDs)
            await held.remove(allIDs)
            return
        }
        let units: [[Item]] =
            job.spec.itemsPerRequest > 1
            ? stride(from: 0, to: batch.items.count, by: job.spec.itemsPerRequest).map {
                Array(batch.items[$0..<min($0 + job.spec.itemsPerRequest, batch.items.count)])
            }
            : batch.items.map { [$0] }
        var outcomes: [ItemOutcome] = []
        var unstarted: [Int64] = []
        let mayStart: @Sendable () async -> Bool = { [state, control] in
            guard !state.isDraining else { return false }
            return await control.mayStart(jobID: job.id)
        }
        // Gates looked up once per provider in the batch, not once per call.
        var gateByName: [String: ProviderGate] = [:]
        await withTaskGroup(of: (unit: [Item], result: ItemRunner.Result).self) { calls in
            for unit in units {
                let name = providerName(for: unit, job: job)
                if let name, gateByName[name] == nil { gateByName[name] = await gates.gate(for: name) }
                guard let name, let entry = providers[name], let gate = gateByName[name] else {
                    let model = ItemRunner.model(of: unit[0], job: job)
                    let reason = "no configured provider serves model '\(model)' (known: \(providers.names.joined(separator: ", ")))"
                    outcomes += unit.map { ItemOutcome(itemID: $0.id, result: .failed(reason)) }
                    continue
                }
                await permits.acquire()
                guard await mayStart() else {
                    await permits.release()
                    unstarted += unit.map(\.id)
                    continue
                }
                calls.addTask {
                    let result = await self.runner.run(unit, job: job, provider: entry.provider, gate: gate, mayStart: mayStart)
                    if case .unauthorized(let message) = result {
                        // Pause before giving the permit back, so no other item of the job starts.
                        await self.pause(job.id, reason: "the provider refused the credentials: \(message)")
                    }
                    await self.permits.release()
                    return (unit, result)
                }
            }
            for await (unit, result) in calls {
                switch result {
                case .outcomes(let finished): outcomes += finished
                case .unauthorized, .notStarted: unstarted += unit.map(\.id)
                }
            }
        }
        do {
            let recorded = try await store.record(outcomes, owner: configuration.workerID, now: clock.now())
            EngineMetrics.recorded(outcomes)
            for outcome in outcomes where recorded.contains(outcome.itemID) {
                if case .failed(let reason) = outcome.result {
                    logger.info("item failed", metadata: ["job": "\(job.id)", "item": "\(outcome.itemID)", "error": "\(reason)"])
                }
            }
            if recorded.count < outcomes.count {
                logger.warning(
                    "results dropped after lost leases", metadata: ["job": "\(job.id)", "dropped": "\(outcomes.count - recorded.count)"])
            }
        } catch {
            logger.error("recording results failed", metadata: ["job": "\(job.id)", "error": "\(error)"])
        }
        await release(unstarted)
        await held.remove(allIDs)
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

    func release(_ ids: [Int64]) async {
        guard !ids.isEmpty else { return }
        do {
            try await store.release(itemIDs: ids, owner: configuration.workerID, now: clock.now())
        } catch {
            logger.error("releasing items failed", metadata: ["error": "\(error)"])
        }
    }
}

/// Set once when the worker starts draining; read synchronously from the shutdown handler.
final class DrainState: Sendable {
    private let flag = Mutex(false)
    var isDraining: Bool { flag.withLock { $0 } }
    func begin() { flag.withLock { $0 = true } }
}
