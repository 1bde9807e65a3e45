public import Foundation

/// When an auto-tier job stops waiting for the batch API and sends what is left live.
///
/// The moment is the deadline less the time the unfinished rows would take live, doubled,
/// and a margin (ten minutes by default) more: live time is rows ÷ (rows per call × calls a second the provider's
/// limits allow). The doubling covers retries, a slower provider than its limits promise, and
/// the batch results still to be read; the ten minutes, a short job's start. Until then every
/// row waits in the batch API at half the price; after it, an unfinished row costs the full
/// price but arrives in time.
public enum AutoTierSwitch {
    public static let defaultMargin: Double = 600

    /// Whether an auto job with `unfinished` rows must go live now to meet `deadline`.
    /// `callsPerSecond` is what the provider's limits allow (learned or configured).
    public static func mustGoLive(
        now: Date, deadline: Date, unfinished: Int, rowsPerCall: Int, callsPerSecond: Double, margin: Double = defaultMargin
    ) -> Bool {
        let liveSeconds = Double(unfinished) / (Double(max(1, rowsPerCall)) * max(callsPerSecond, 0.001))
        return now.addingTimeInterval(2 * liveSeconds + margin) >= deadline
    }
}
