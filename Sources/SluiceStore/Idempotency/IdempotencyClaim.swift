import Foundation

public enum IdempotencyClaim: Sendable, Equatable {
    /// The key is this request's: run it, then complete or release the key.
    case claimed
    /// Another request with the key has not finished.
    case inProgress
    /// A request with the key finished: its route, the fingerprint of its body, its answer.
    case completed(route: String, fingerprint: String, response: String)
}
