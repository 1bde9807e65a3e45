public import Foundation
import SluiceCore

/// One event on its way to one endpoint.
public struct WebhookDelivery: Sendable, Equatable {
    public enum Status: String, Sendable { case pending, delivered, failed }
    /// The `webhook-id` every attempt carries.
    public var id: String
    public var endpointID: String
    public var eventType: String
    /// The job the event is about.
    public var subject: String
    public var payload: String
    public var status: Status
    public var attempts: Int
    public var nextAttemptAt: Date
    public var createdAt: Date
    public var finishedAt: Date?
}
