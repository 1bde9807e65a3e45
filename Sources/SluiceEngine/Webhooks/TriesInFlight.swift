import Synchronization

/// How many deliveries are being tried, shared by the loop that starts them and the tries
/// that end.
final class TriesInFlight: Sendable {
    private let value = Mutex(0)
    var count: Int { value.withLock { $0 } }
    func add(_ change: Int) { value.withLock { $0 += change } }
}
