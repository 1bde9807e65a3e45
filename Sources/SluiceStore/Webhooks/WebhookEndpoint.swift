public import Foundation
import SluiceCore

/// Where a user's events go, and the secret that signs them.
public struct WebhookEndpoint: Sendable, Equatable {
    public var id: String
    public var owner: String
    public var url: String
    public var events: [String]
    /// `whsec_` and the base64 of the signing key, as the Standard Webhooks libraries take it.
    public var secret: String
    public var createdAt: Date

    public init(id: String, owner: String, url: String, events: [String], secret: String, createdAt: Date) {
        self.id = id
        self.owner = owner
        self.url = url
        self.events = events
        self.secret = secret
        self.createdAt = createdAt
    }
}
