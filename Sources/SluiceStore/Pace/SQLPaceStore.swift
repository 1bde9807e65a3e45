public import Foundation
import SluiceCore

/// Providers' shared schedules of call starts, over the SQL seam.
public struct SQLPaceStore: PaceStore, SQLStore {
    let context: StoreContext

    public func takePace(_ request: PaceRequest, now: Date) async throws -> PaceGrant {
        let greatest = database.greatest
        return try await write { tx in
            try tx.execute("INSERT INTO provider_pace (provider) VALUES (?) ON CONFLICT (provider) DO NOTHING", [.text(request.provider)])
            // The block's calls are spaced on the request schedule; the block as a whole may not
            // start before the tokens it reserves are paid off on the token schedule, so no
            // sliding minute ever holds more than the limit and one block.
            guard
                let row = try tx.row(
                    """
                    UPDATE provider_pace SET
                        request_due = \(greatest(["request_due", "?", "blocked_until"])) + ?,
                        token_due = \(greatest(["token_due", "?", "blocked_until"])) + ?
                    WHERE provider = ? RETURNING request_due, token_due, blocked_until, circuit_open_until
                    """,
                    [
                        SQLValue(now), .double(Double(request.calls) * request.secondsPerCall), SQLValue(now),
                        .double(request.tokens * request.secondsPerToken), .text(request.provider),
                    ])
            else { throw StoreError.corrupt("the pace of provider \(request.provider) was not kept") }
            let requestBase = try row.double("request_due") - Double(request.calls) * request.secondsPerCall
            let tokenBase = try row.double("token_due") - request.tokens * request.secondsPerToken
            let starts = (0..<request.calls).map { index in
                Date(timeIntervalSince1970: max(requestBase + Double(index) * request.secondsPerCall, tokenBase))
            }
            let open = try row.double("circuit_open_until")
            return PaceGrant(starts: starts, circuitOpenUntil: open > now.timeIntervalSince1970 ? Date(timeIntervalSince1970: open) : nil)
        }
    }

    public func holdPace(provider: String, until: Date, reason: PaceHold) async throws {
        let column = reason == .rateLimited ? "blocked_until" : "circuit_open_until"
        let greatest = database.greatest
        try await write { tx in
            try tx.execute("INSERT INTO provider_pace (provider) VALUES (?) ON CONFLICT (provider) DO NOTHING", [.text(provider)])
            try tx.execute(
                "UPDATE provider_pace SET \(column) = \(greatest([column, "?"])) WHERE provider = ?", [SQLValue(until), .text(provider)])
        }
    }
}
