public import SluiceCore

/// The usage ledger, read: who spent what, on which provider's model, on which day.
public protocol UsageStore: Sendable {
    /// The rows for the days `from` through `through` (`2026-12-01`), ordered by day, user,
    /// provider and model; only `user`'s when given.
    func usage(user: String?, from: String, through: String) async throws -> [UsageRow]
    /// What each key's jobs spent in `window`'s day and month: the figures its quota is checked against.
    func spentByKey(in window: UsageWindow) async throws -> [String: KeyQuota.Spent]
}
