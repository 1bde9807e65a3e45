import Logging
import ServiceLifecycle
import SluiceCore
import SluiceStore
import Synchronization

/// Reads uploaded jobs into items in the background, so an upload is answered as soon as its
/// bytes are stored. Woken by ``wake()`` when a job is created, and polls as a safety net;
/// on start it also picks up jobs whose ingest a previous process did not finish.
public final class IngestService: Service, Sendable {
    let store: any JobStore
    let clock: any SluiceClock
    let pollInterval: Double
    let logger: Logger
    let signal: AsyncStream<Void>
    let continuation: AsyncStream<Void>.Continuation

    public init(store: any JobStore, clock: any SluiceClock = SystemClock(), pollInterval: Double = 2, logger: Logger) {
        self.store = store
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
        let ingestor = JobIngestor(store: store, clock: clock)
        while !Task.isCancelled {
            let jobs: [Job]
            do {
                jobs = try await store.jobsAwaitingValidation(limit: 8)
            } catch {
                logger.error("listing jobs to ingest failed", metadata: ["error": "\(error)"])
                return
            }
            if jobs.isEmpty { return }
            for job in jobs {
                do {
                    let result = try await ingestor.ingest(jobID: job.id)
                    logger.info(
                        "ingested job",
                        metadata: ["job": "\(job.id)", "status": "\(result.status.rawValue)", "items": "\(result.counts.total)"])
                } catch StoreError.jobNotFound, StoreError.invalidTransition {
                    // Deleted or cancelled while being read: nothing left to do.
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("ingest failed", metadata: ["job": "\(job.id)", "error": "\(error)"])
                    _ = try? await store.failValidation(
                        jobID: job.id, errors: [JobErrorEntry(message: "the upload could not be read: \(error)")], now: clock.now())
                }
            }
        }
    }
}
