import AsyncHTTPClient
import Foundation
public import Logging
import NIOCore
import NIOHTTP1
public import ServiceLifecycle
public import SluiceCore
import SluiceProviders
public import SluiceStore

/// Sends webhooks from the outbox: queues the endings of jobs that ended, then leases the
/// deliveries that are due and tries each — signed afresh with the same `webhook-id` — until
/// the endpoint answers 2xx or the retry schedule (``WebhookSettings/retrySeconds``) is spent.
///
/// Deliveries hold slots, not rounds: as soon as one try ends, its slot leases the next due
/// delivery, so an endpoint that is slow or hangs to its timeout holds up only its own.
///
/// Any number of worker processes may run it: announcing and leasing are guarded in the store, and
/// a process that dies mid-try leaves its lease to run out and the delivery to be tried again —
/// at least once, never lost. Redirects are not followed (a redirect could lead anywhere) and
/// every try checks the target again (see ``WebhookTarget``).
public struct WebhookDispatcher: Service {
    /// The queue, for the failed rounds' check that the database can serve at all.
    let store: any JobStore
    let outbox: any WebhookStore
    let settings: WebhookSettings
    let owner: String
    let logger: Logger
    let metrics: EngineMetrics
    var interval = 1.0
    var clock: any SluiceClock = SystemClock()
    /// Deliveries tried at once.
    static let slots = 16

    public init(
        store: any JobStore, outbox: any WebhookStore, settings: WebhookSettings, owner: String, logger: Logger, metrics: EngineMetrics,
        clock: any SluiceClock = SystemClock()
    ) {
        self.store = store
        self.outbox = outbox
        self.settings = settings
        self.owner = owner
        self.logger = logger
        self.metrics = metrics
        self.clock = clock
    }

    public func run() async throws {
        metrics.declareWebhookTries()
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: Self.clientConfiguration(settings))
        let inFlight = TriesInFlight()
        let (slotFreed, freeing) = AsyncStream.makeStream(of: Void.self)
        do {
            try await withThrowingTaskGroup(of: Void.self) { tries in
                var freed = slotFreed.makeAsyncIterator()
                try await FailedRounds.loop("webhooks", store: store, clock: clock, logger: logger, metrics: metrics, interval: interval) {
                    let free = Self.slots - inFlight.count
                    guard free > 0 else {
                        // Every slot is busy: the next round starts when one frees.
                        return await freed.next() != nil
                    }
                    let due = try await lease(free)
                    inFlight.add(due.count)
                    for delivery in due {
                        tries.addTask {
                            await deliver(delivery, client: client)
                            inFlight.add(-1)
                            freeing.yield()
                        }
                    }
                    // A full lease may have left more due: look again at once.
                    return due.count == free
                }
                try await tries.waitForAll()
            }
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }

    /// Sends one try and returns the answer's status. With private targets refused, the try
    /// connects to the address ``WebhookTarget/check(_:allowPrivate:)`` approved — the name is
    /// not looked up again, so it cannot be re-pointed at an internal address in between — and
    /// still says the name in `Host` and TLS's SNI (the certificate is checked against it).
    func send(_ request: HTTPClientRequest, to target: (host: String, address: String?), client: HTTPClient) async throws -> Int {
        let timeout = TimeAmount.seconds(Int64(settings.timeoutSeconds.rounded(.up)))
        guard let address = target.address else {
            let response = try await client.execute(request, timeout: timeout)
            // The answer's body means nothing; reading it lets the connection be used again.
            for try await _ in response.body {}
            return Int(response.status.code)
        }
        var configuration = Self.clientConfiguration(settings)
        configuration.dnsOverride = [target.host: address]
        let pinned = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        do {
            let response = try await pinned.execute(request, timeout: timeout)
            for try await _ in response.body {}
            try await pinned.shutdown()
            return Int(response.status.code)
        } catch {
            try? await pinned.shutdown()
            throw error
        }
    }

    static func clientConfiguration(_ settings: WebhookSettings) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(Int64(settings.timeoutSeconds.rounded(.up))))
        return configuration
    }

    /// Queues the endings of jobs that ended, then leases up to `limit` due deliveries.
    func lease(_ limit: Int) async throws -> [DueDelivery] {
        let queued = try await outbox.announceEndedJobs(limit: 100, now: clock.now())
        if queued > 0 { logger.info("webhook deliveries queued", metadata: ["deliveries": "\(queued)"]) }
        let now = clock.now()
        return try await outbox.leaseDueDeliveries(
            owner: owner, limit: limit, until: now.addingTimeInterval(settings.timeoutSeconds + 10), now: now)
    }

    func deliver(_ due: DueDelivery, client: HTTPClient) async {
        let started = clock.now()
        var statusCode: Int?
        var failure: String?
        do {
            let target = try await WebhookTarget.check(due.url, allowPrivate: settings.allowPrivateTargets)
            var request = HTTPClientRequest(url: due.url)
            request.method = .POST
            let timestamp = Int(started.timeIntervalSince1970)
            request.headers.add(name: "content-type", value: "application/json")
            request.headers.add(name: "user-agent", value: "Sluice-Webhooks/1")
            request.headers.add(name: "webhook-id", value: due.delivery.id)
            request.headers.add(name: "webhook-timestamp", value: String(timestamp))
            request.headers.add(
                name: "webhook-signature",
                value: WebhookSignature.sign(id: due.delivery.id, timestamp: timestamp, payload: due.delivery.payload, secret: due.secret))
            request.body = .bytes(ByteBuffer(string: due.delivery.payload))
            statusCode = try await send(request, to: target, client: client)
            if let code = statusCode, !(200..<300).contains(code) { failure = "HTTP \(code)" }
        } catch let refusal as WebhookTarget.Refusal {
            failure = refusal.description
        } catch {
            failure = ConnectionFailure.name(of: error)
            logger.notice("webhook try failed", metadata: ["delivery": "\(due.delivery.id)", "error": "\(error)"])
        }
        let attempt = due.delivery.attempts + 1
        let next: DeliveryNext =
            failure == nil
            ? .delivered : settings.delay(afterAttempt: attempt).map { .retry(at: clock.now().addingTimeInterval($0)) } ?? .failed
        var metadata: Logger.Metadata = [
            "delivery": "\(due.delivery.id)", "event": "\(due.delivery.eventType)", "job": "\(due.delivery.subject)",
            "attempt": "\(attempt)",
        ]
        if let failure { metadata["error"] = "\(failure)" }
        do {
            let recorded = try await outbox.recordDeliveryAttempt(
                WebhookAttempt(attempt: attempt, at: started, statusCode: statusCode, error: failure), deliveryID: due.delivery.id,
                owner: owner, next: next)
            if !recorded { logger.warning("a webhook delivery's lease passed to another process mid-try", metadata: metadata) }
        } catch {
            // The lease runs out and the delivery is tried again: sent twice rather than lost.
            metadata["store_error"] = "\(error)"
            logger.warning("a webhook attempt could not be recorded; it will be tried again", metadata: metadata)
            return
        }
        switch next {
        case .delivered:
            metrics.webhookTry(outcome: "delivered")
            logger.info("webhook delivered", metadata: metadata)
        case .retry:
            metrics.webhookTry(outcome: "retrying")
            logger.notice("webhook delivery failed; will retry", metadata: metadata)
        case .failed:
            metrics.webhookTry(outcome: "failed")
            logger.warning("webhook delivery failed for good", metadata: metadata)
        }
    }
}
