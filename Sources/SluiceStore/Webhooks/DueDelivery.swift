import Foundation
import SluiceCore

/// A leased delivery with where it goes.
public struct DueDelivery: Sendable, Equatable {
    public var delivery: WebhookDelivery
    public var url: String
    public var secret: String
}
