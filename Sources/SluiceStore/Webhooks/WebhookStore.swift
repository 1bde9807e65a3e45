public import Foundation
import SluiceCore

/// Webhook endpoints and the durable outbox of their deliveries.
///
/// A job's ending enters the outbox in the transaction that marks it announced, so it is
/// queued exactly once whichever process sees it first; a delivery is leased before it is
/// tried, and its attempt recorded under that lease, so two processes never send one at once
/// and a process that dies mid-try leaves it to be tried again — with the same `webhook-id`.
public protocol WebhookStore: Sendable {
    func createWebhookEndpoint(_ endpoint: WebhookEndpoint) async throws
    func webhookEndpoint(id: String) async throws -> WebhookEndpoint?
    /// An owner's endpoints (everyone's for `nil`), oldest first.
    func webhookEndpoints(owner: String?) async throws -> [WebhookEndpoint]
    /// Deletes an endpoint and its deliveries; `false` when there was none.
    func deleteWebhookEndpoint(id: String) async throws -> Bool

    /// Queues the endings of up to `limit` ended jobs not yet announced: one delivery for each
    /// endpoint of the job's owner subscribed to its event. Returns how many deliveries it queued.
    func announceEndedJobs(limit: Int, now: Date) async throws -> Int

    /// Leases up to `limit` deliveries that are due to `owner` until `until`.
    func leaseDueDeliveries(owner: String, limit: Int, until: Date, now: Date) async throws -> [DueDelivery]

    /// Records one try of a leased delivery and what comes next; `false` when the lease was
    /// no longer `owner`'s (another process has it), in which case nothing is recorded.
    func recordDeliveryAttempt(_ attempt: WebhookAttempt, deliveryID: String, owner: String, next: DeliveryNext) async throws -> Bool

    /// An endpoint's deliveries, newest first.
    func webhookDeliveries(endpointID: String, limit: Int) async throws -> [WebhookDelivery]
    /// A delivery's tries, first first.
    func webhookAttempts(deliveryID: String) async throws -> [WebhookAttempt]
}
