import SluiceCore

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
}
