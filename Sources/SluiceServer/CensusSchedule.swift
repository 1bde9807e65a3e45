import Foundation
import Hummingbird
import Logging
import Metrics
import NIOCore
import Prometheus
import SluiceCore
import SluiceStore
import Synchronization

/// When the next store census is due: scrapers (several Prometheus servers, or a hostile
/// client where `/metrics` is open) share one census per interval.
final class CensusSchedule: Sendable {
    let interval: Double
    private let last = Mutex<ContinuousClock.Instant?>(nil)

    init(interval: Double) {
        self.interval = interval
    }

    /// `true` (and the clock restarts) when no census was taken within the interval.
    func due() -> Bool {
        let now = ContinuousClock.now
        return last.withLock { last in
            if let taken = last, taken.duration(to: now) < .seconds(interval) { return false }
            last = now
            return true
        }
    }
}
