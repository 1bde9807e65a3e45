import Logging
import ServiceLifecycle
import SluiceCore
import SluiceStorage
import SluiceStore
import Synchronization

/// Reads uploaded jobs into items in the background, so an upload is answered as soon as its
/// bytes are stored. Woken by ``wake()`` when a job is created, and polls as a safety net.
///
/// Each job's ingest is leased to one process (``owner``); any number of API processes may run
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
    let signal: AsyncStream<Void>
    let continuation: AsyncStream<Void>.Continuation

    public init(
        store: any JobStore, owner: String, storage: (any FileStorage)? = nil, leaseDuration: Double = 30,
        clock: any SluiceClock = SystemClock(), pollInterval: Double = 2, logger: Logger
    ) {
        self.store = store
        self.owner = owner
        self.storage = storage
        self.leaseDuration = leaseDuration
        self.clock = clock
        self.pollInterval = pollInterval
        self.logger = logger
        (signal, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// A job is waiting: ingest it now rather than at the next poll.
    public func wake() {
        continuation.yield()
    }

    /// On shutdown an ingest in progress stops at its next batch; the job stays `validating`
    /// and the next start reads it again from the beginning.
    public func run() async throws {
        await cancelWhenGracefulShutdown { [self] in
            await withTaskGroup(of: Void.self) { group in
                // The poll only nudges the signal, so one loop does all the work in order.
                group.addTask { [clock = self.clock, pollInterval = self.pollInterval, continuation = self.continuation] in
                    while (try? await clock.sleep(seconds: pollInterval)) != nil {
                        continuation.yield()
                    }
                }
                group.addTask { [self] in
                    await self.ingestWaitingJobs()
                    for await _ in self.signal { await self.ingestWaitingJobs() }
                }
                await group.next()
                group.cancelAll()
            }
        }
    }

    func ingestWaitingJobs() async {
        let ingestor = JobIngestor(store: store, owner: owner, storage: storage, clock: clock, leaseDuration: leaseDuration)
        while !Task.isCancelled {
            let leased: Job?
            do {
                leased = try await store.leaseIngest(owner: owner, leaseDuration: leaseDuration, now: clock.now())
            } catch {
                logger.error("leasing a job to ingest failed", metadata: ["error": "\(error)"])
                return
            }
            guard let job = leased else { return }
            do {
                let result = try await ingestor.ingest(job)
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
            } catch {
                logger.error("ingest failed", metadata: ["job": "\(job.id)", "error": "\(error)"])
                _ = try? await store.failValidation(
                    jobID: job.id, owner: owner, errors: [JobErrorEntry(message: "the upload could not be read: \(error)")],
                    now: clock.now())
            }
        }
    }
}
