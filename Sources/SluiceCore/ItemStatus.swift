/// Where one item is. Raw values are the wire and database spellings.
public enum ItemStatus: String, Sendable, Codable, CaseIterable {
    /// Waiting for a worker; may carry a not-before time after a retryable failure.
    case pending
    /// Leased to one worker until its lease expires.
    case running
    case succeeded
    case failed
    case cancelled

    public var isFinal: Bool { self == .succeeded || self == .failed || self == .cancelled }
}
