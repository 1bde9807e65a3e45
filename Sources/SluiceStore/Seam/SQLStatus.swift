import SluiceCore

/// A status as the store's SQL names it. Every status a statement writes or tests goes through
/// ``sql`` (the raw value, quoted), so the spellings in SQL come from the enums alone. The
/// migrations are the exception: applied text never changes, so their `CHECK` lists are written
/// out, and a conformance test checks the schema admits every case.
protocol SQLStatus: RawRepresentable<String> {}

extension SQLStatus {
    /// `'running'`: a SQL string literal.
    var sql: String { "'\(rawValue)'" }
}

extension Sequence where Element: SQLStatus {
    /// `'queued', 'running'`: the statuses as a SQL list, for a guard's `IN (…)`.
    var sqlList: String { map(\.sql).joined(separator: ", ") }
}

extension JobStatus: SQLStatus {}
extension ItemStatus: SQLStatus {}
extension StoredUpload.Status: SQLStatus {}
extension WebhookDelivery.Status: SQLStatus {}

extension JobStatus {
    /// Statuses whose pending items may be claimed.
    static let claimable: [JobStatus] = [.queued, .running]
}
