import Foundation

/// One schedule per provider shared by every process on the database: the rate limits are the
/// provider's, not each process's, so all workers together must stay under them.
///
/// Each process takes start times in small blocks (a generic cell rate algorithm kept in one
/// row, moved by one `UPDATE … RETURNING`), so the database is asked once per block, not once
/// per call. A 429 or an opened circuit seen by one process is written here and holds every
/// process's next block back.
public protocol PaceStore: Sendable {
    /// Books `request.calls` start times and `request.tokens` tokens on the provider's schedule.
    func takePace(_ request: PaceRequest, now: Date) async throws -> PaceGrant

    /// Holds the provider's schedule until `until`: nobody's next block starts before it. `reason`
    /// says whether the provider refused calls (a 429) or failed them (an opened circuit).
    func holdPace(provider: String, until: Date, reason: PaceHold) async throws
}

public enum PaceHold: Sendable, Equatable {
    /// The provider answered 429: its limit is reached until then.
    case rateLimited
    /// Calls kept failing: the circuit is open until then.
    case circuitOpen
}

/// A block of calls to book.
public struct PaceRequest: Sendable, Equatable {
    public var provider: String
    public var calls: Int
    /// Tokens the block is expected to use, plus any correction for earlier blocks whose calls
    /// used more (or fewer) than they reserved; may be negative.
    public var tokens: Double
    /// Seconds between two calls' starts (`60 / RPM`); 0 without a request limit.
    public var secondsPerCall: Double
    /// Seconds a token takes to pay off (`60 / TPM`); 0 without a token limit.
    public var secondsPerToken: Double

    public init(provider: String, calls: Int, tokens: Double, secondsPerCall: Double, secondsPerToken: Double) {
        self.provider = provider
        self.calls = calls
        self.tokens = tokens
        self.secondsPerCall = secondsPerCall
        self.secondsPerToken = secondsPerToken
    }
}

/// The start times a block was given, and any hold on the provider.
public struct PaceGrant: Sendable, Equatable {
    /// When each call of the block may start, in order.
    public var starts: [Date]
    /// When the provider's circuit, opened by some process, closes again (`nil`: closed).
    public var circuitOpenUntil: Date?

    public init(starts: [Date], circuitOpenUntil: Date?) {
        self.starts = starts
        self.circuitOpenUntil = circuitOpenUntil
    }
}

extension SQLJobStore: PaceStore {
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
