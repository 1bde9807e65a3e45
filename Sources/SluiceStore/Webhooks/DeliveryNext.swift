public import Foundation
import SluiceCore

/// What follows a try.
public enum DeliveryNext: Sendable, Equatable {
    case delivered
    case retry(at: Date)
    /// No tries left.
    case failed
}
