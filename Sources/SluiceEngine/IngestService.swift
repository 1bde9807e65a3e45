import Foundation
public import Logging
public import ServiceLifecycle
public import SluiceCore
public import SluiceStorage
public import SluiceStore
import Synchronization

/// Reads uploaded jobs into items in the background, so an upload is answered as soon as its
/// bytes are stored. Woken by ``wake()`` when a job is created in this process; a job another
/// process created (an API process that is only a front door) is found by polling, the readers
/// taking turns so that one of them looks every `pollInterval / readers` seconds.
///
/// Each job's ingest is leased to one process (``owner``); any number of processes (workers, `serve`) may run
/// this on one database. A job whose reader died is taken over when its lease runs out, and
/// read again from the start.
public final class IngestService: Service, Sendable {
    let store: any JobStore
    let owner: String
    let storage: (any FileStorage)?
    let leaseDuration: Double
    let clock: any SluiceClock
    let pollInterval: Double
    let logger: Logger
    let metrics: EngineMetrics
    /// Jobs read at once: several users' uploads are read side by side, and the store hands
    /// the next one to the user with the fewest being read (see ``JobStore/leaseIngest``).
    let readers: Int
    let wakes = WakeSignal()

    public init(
        store: any JobStore, owner: String, storage: (any FileStorage)? = nil, leaseDuration: Double = 30,
        clock: any SluiceClock = SystemClock(), pollInterval: Double = 2, readers: Int = 4, logger: Logger,
        metrics: EngineMetrics = .none
    ) {
        self.readers = max(1, readers)
        self.metrics = metrics
        self.store = store
        self.owner = owner
        self.storage = storage
        self.leaseDuration = leaseDuration
        self.clock = clock
        self.pollInterval = pollInterval
        self.logger = logger
    }

    /// A job is waiting: ingest it now rather than at the next poll.
    public func wake() {
        wakes.wakeAll()
    }

    /// On shutdown an ingest in progress stops at its next batch; the job stays `validating`
    /// and the next start reads it again from the beginning. A failed round (the database
    /// refused) is logged and tried again after a pause; only ``UnrecoverableStoreFailure``
    /// ends the service, and with it the process.
    public func run() async throws {
        try await cancelWhenGracefulShutdown { [self] in
            try await withThrowingTaskGroup(of: Void.self) { group in
                let start = clock.now()
                for reader in 0..<readers {
                    group.addTask { [self] in
                        var failures = FailedRounds(loop: "ingest", store: store, clock: clock, logger: logger, metrics: metrics)
                        while !Task.isCancelled {
                            let generation = wakes.generation
                            try await self.ingestWaitingJobs(&failures)
                            await idle(after: generation, until: nextPoll(reader: reader, since: start))
                        }
                    }
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    /// When `reader` looks next: its turn comes `reader / readers` of an interval after the
    /// others', then every interval. Each reader polls once an interval, as one reader alone
    /// would; together they look `readers` times as often.
    func nextPoll(reader: Int, since start: Date) -> Date {
        let phase = pollInterval * Double(reader) / Double(readers)
        let elapsed = clock.now().timeIntervalSince(start) - phase
        return start.addingTimeInterval(phase + ((elapsed / pollInterval).rounded(.down) + 1) * pollInterval)
    }

    /// Waits for a wake after `generation` or until `deadline`, whichever comes first.
    func idle(after generation: Int, until deadline: Date) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.wakes.wait(after: generation) }
            group.addTask { try? await self.clock.sleep(until: deadline) }
            await group.next()
            group.cancelAll()
        }
    }

    func ingestWaitingJobs(_ failures: inout FailedRounds) async throws {
        let ingestor = JobIngestor(store: store, owner: owner, storage: storage, clock: clock, leaseDuration: leaseDuration)
        // A job whose read the database broke off, to read again while its lease is still ours.
        var again: Job?
        while !Task.isCancelled {
            let job: Job
            do {
                if let retry = again {
                    again = nil
                    job = retry
                } else {
                    guard let leased = try await store.leaseIngest(owner: owner, leaseDuration: leaseDuration, now: clock.now()) else {
                        failures.succeeded()
                        return
                    }
                    job = leased
                }
            } catch {
                try await failures.waitAfter(error)
                continue
            }
            do {
                let result = try await ingestor.ingest(job)
                failures.succeeded()
                logger.info(
                    "ingested job",
                    metadata: ["job": "\(job.id)", "status": "\(result.status.rawValue)", "items": "\(result.counts.total)"])
            } catch StoreError.jobNotFound, StoreError.invalidTransition, StoreError.conflict {
                // Deleted or cancelled while being read, or another process holds it now.
            } catch is CancellationError {
                return
            } catch let error as StorageError {
                // The bucket could not be reached: the job stays validating, and is read again
                // (here or by another process) once its lease runs out.
                logger.error("reading an upload failed", metadata: ["job": "\(job.id)", "error": "\(error)"])
            } catch let error as StoreError where !error.isCorruption {
                // The database failed mid-read: the job stays validating and is read again from
                // the start after the pause — here if the lease is still ours, else by whoever
                // takes it once it runs out.
                try await failures.waitAfter(error)
                let until = clock.now().addingTimeInterval(leaseDuration)
                if (try? await store.extendIngest(jobID: job.id, owner: owner, until: until)) == true { again = job }
            } catch {
                // Something about this job itself: it fails, saying so in our words; the detail
                // (which may name paths or stored data) is in the log.
                logger.error("ingest failed", metadata: ["job": "\(job.id)", "error": "\(error)"])
                _ = try? await store.failValidation(
                    jobID: job.id, owner: owner,
                    errors: [JobErrorEntry(message: "the upload could not be read; the server's log has the details (job \(job.id))")],
                    now: clock.now())
            }
        }
    }
}
