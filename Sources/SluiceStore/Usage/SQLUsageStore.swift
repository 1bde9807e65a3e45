public import SluiceCore

/// The usage ledger over the SQL seam; a user's keys are summed.
public struct SQLUsageStore: UsageStore, SQLStore {
    let context: StoreContext

    public func usage(user: String?, from: String, through: String) async throws -> [UsageRow] {
        try await read { tx in
            try tx.rows(
                """
                SELECT day, owner, provider, model, CAST(SUM(calls) AS BIGINT) AS calls, CAST(SUM(prompt_tokens) AS BIGINT) AS prompt_tokens,
                CAST(SUM(completion_tokens) AS BIGINT) AS completion_tokens, CAST(SUM(cached_tokens) AS BIGINT) AS cached_tokens,
                CAST(SUM(cost_micros) AS BIGINT) AS cost_micros
                FROM usage_days WHERE day >= ? AND day <= ? AND (CAST(? AS TEXT) IS NULL OR owner = ?)
                GROUP BY day, owner, provider, model ORDER BY day, owner, provider, model
                """, [.text(from), .text(through), SQLValue(user), SQLValue(user)]
            ).map { row in
                UsageRow(
                    day: try row.text("day"), user: try row.text("owner"), provider: try row.text("provider"), model: try row.text("model"),
                    calls: try row.int64("calls"), promptTokens: try row.int64("prompt_tokens"),
                    completionTokens: try row.int64("completion_tokens"), cachedTokens: try row.int64("cached_tokens"),
                    costMicros: try row.int64("cost_micros"))
            }
        }
    }

    public func spentByKey(in window: UsageWindow) async throws -> [String: KeyQuota.Spent] {
        try await read { tx in try Self.spent(tx, in: window, keyID: nil) }
    }

    /// What each key's jobs (or only `keyID`'s) spent in `window`'s day and month; also read by
    /// the claim that checks a key's quota.
    /// One key's is asked in its own statement text (not `? IS NULL OR key_id = ?`), so the
    /// claim's read stays on the `(key_id, day)` index under a generic plan.
    static func spent(_ tx: any SQLTransaction, in window: UsageWindow, keyID: String?) throws -> [String: KeyQuota.Spent] {
        var spent: [String: KeyQuota.Spent] = [:]
        let oneKey = keyID == nil ? "" : "AND key_id = ?"
        for row in try tx.rows(
            """
            SELECT key_id, CAST(SUM(CASE WHEN day = ? THEN prompt_tokens + completion_tokens ELSE 0 END) AS BIGINT) AS tokens_today,
            CAST(SUM(prompt_tokens + completion_tokens) AS BIGINT) AS tokens_month,
            CAST(SUM(CASE WHEN day = ? THEN cost_micros ELSE 0 END) AS BIGINT) AS cost_today, CAST(SUM(cost_micros) AS BIGINT) AS cost_month
            FROM usage_days WHERE day >= ? \(oneKey) GROUP BY key_id
            """, [.text(window.day), .text(window.day), .text(window.monthStart)] + (keyID.map { [.text($0)] } ?? []))
        {
            spent[try row.text("key_id")] = KeyQuota.Spent(
                tokensToday: try row.int64("tokens_today"), tokensThisMonth: try row.int64("tokens_month"),
                costMicrosToday: try row.int64("cost_today"), costMicrosThisMonth: try row.int64("cost_month"))
        }
        return spent
    }
}
