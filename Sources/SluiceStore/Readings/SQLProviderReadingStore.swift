public import Foundation
public import SluiceCore

/// Provider readings over the SQL seam: one row per provider key and worker.
public struct SQLProviderReadingStore: ProviderReadingStore, SQLStore {
    let context: StoreContext

    public func report(_ readings: [ProviderReading], worker: String, now: Date) async throws {
        try await write(wakes: false) { tx in
            try tx.execute(
                "DELETE FROM provider_readings WHERE worker = ? OR reported_at < ?",
                [
                    .text(worker), SQLValue(now.addingTimeInterval(-ProviderReadings.forgottenAfter)),
                ])
            for reading in readings {
                let limits = reading.limits
                try tx.execute(
                    """
                    INSERT INTO provider_readings (
                        provider, worker, source, requests_per_minute, paced_requests_per_minute, tokens_per_minute,
                        paced_tokens_per_minute, blocked_until, circuit_open_until, bursts_allowed, calls_in_flight, reported_at
                    ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        .text(reading.provider), .text(worker), .text(limits.source.rawValue), SQLValue(limits.requestsPerMinute),
                        SQLValue(limits.pacedRequestsPerMinute), SQLValue(limits.tokensPerMinute), SQLValue(limits.pacedTokensPerMinute),
                        SQLValue(limits.blockedUntil), SQLValue(reading.circuitOpenUntil), .int(limits.burstsAllowed ? 1 : 0),
                        .int(Int64(max(0, limits.callsInFlight))), SQLValue(now),
                    ])
            }
        }
    }

    public func readings(since: Date) async throws -> [ProviderReading] {
        try await read { tx in
            try tx.rows("SELECT * FROM provider_readings WHERE reported_at >= ? ORDER BY provider, worker", [SQLValue(since)]).map { row in
                let source = LimitReading.Source(rawValue: try row.text("source")) ?? .unknown
                return ProviderReading(
                    provider: try row.text("provider"), worker: try row.text("worker"),
                    limits: LimitReading(
                        source: source, requestsPerMinute: try row.optionalDouble("requests_per_minute"),
                        pacedRequestsPerMinute: try row.optionalDouble("paced_requests_per_minute"),
                        tokensPerMinute: try row.optionalDouble("tokens_per_minute"),
                        pacedTokensPerMinute: try row.optionalDouble("paced_tokens_per_minute"),
                        blockedUntil: try row.optionalDate("blocked_until"), burstsAllowed: try row.int64("bursts_allowed") != 0,
                        callsInFlight: Int(try row.int64("calls_in_flight"))),
                    circuitOpenUntil: try row.optionalDate("circuit_open_until"), reportedAt: try row.date("reported_at"))
            }
        }
    }

    public func forget(worker: String) async throws {
        try await write(wakes: false) { tx in try tx.execute("DELETE FROM provider_readings WHERE worker = ?", [.text(worker)]) }
    }
}
