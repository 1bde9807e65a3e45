public import Foundation
import SluiceCore

/// One try of a delivery: the status the endpoint answered, or why there was no answer.
public struct WebhookAttempt: Sendable, Equatable {
    public var attempt: Int
    public var at: Date
    public var statusCode: Int?
    public var error: String?

    public init(attempt: Int, at: Date, statusCode: Int?, error: String?) {
        self.attempt = attempt
        self.at = at
        self.statusCode = statusCode
        self.error = error
    }
}
