public import Foundation

/// What each worker's gates know about the provider keys' limits, written by the workers and
/// read by the team view: the limits live in each worker process, learned from headers and
/// 429s, so the people sharing a key see them only through the database.
public protocol ProviderReadingStore: Sendable {
    /// Replaces `worker`'s readings with these, and forgets every worker's readings older than
    /// ``ProviderReadings/forgottenAfter`` (a worker killed without saying goodbye).
    func report(_ readings: [ProviderReading], worker: String, now: Date) async throws
    /// The readings reported at or after `since`, by provider and worker.
    func readings(since: Date) async throws -> [ProviderReading]
    /// Removes `worker`'s readings: it is stopping.
    func forget(worker: String) async throws
}

/// How long readings are kept and shown.
public enum ProviderReadings {
    /// A reading older than this is deleted by the next report.
    public static let forgottenAfter = 3_600.0
}
