import Foundation
import HTTPTypes
import Hummingbird
import SluiceCore
import Synchronization

/// A per-key request budget: `perMinute` requests a minute on average with bursts of up to
/// `burst`, as GCRA (one timestamp per key, no timers). Pure apart from the lock.
final class RequestRateLimiter: Sendable {
    let interval: Double
    let tolerance: Double
    let arrivals = Mutex<[String: Double]>([:])

    init(perMinute: Double, burst: Int) {
        interval = 60 / perMinute
        tolerance = interval * Double(max(burst - 1, 0))
    }

    /// `nil` when the request may go ahead; otherwise the seconds to wait.
    func admit(_ key: String, now: Double) -> Double? {
        arrivals.withLock { arrivals in
            let theoretical = max(arrivals[key] ?? now, now)
            if theoretical - tolerance > now { return theoretical - tolerance - now }
            arrivals[key] = theoretical + interval
            return nil
        }
    }
}
