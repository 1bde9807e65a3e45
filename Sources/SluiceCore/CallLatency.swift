import Foundation

/// How long a provider's calls usually take, and so when a call still running is overdue —
/// most likely hung.
///
/// An overdue call keeps its connection (the provider may still answer, and its item is not
/// run twice), but stops holding one of the worker's call slots: hangs that come at random
/// would otherwise pile up in the slots and starve the rest of the work for as long as a hang
/// lasts. "Overdue" is `factor` times the 90th percentile of recent successful calls, never
/// less than `floor` seconds — so a slow model whose every call takes a minute is not mistaken
/// for a hung one. Pure; the worker feeds it durations.
public struct CallLatency: Sendable, Equatable {
    public var factor: Double
    public var floor: Double
    /// Durations of the most recent successful calls, oldest first (at most `window`).
    public private(set) var recent: [Double] = []
    public let window: Int

    public init(factor: Double = 4, floor: Double = 5, window: Int = 128) {
        self.factor = factor
        self.floor = floor
        self.window = max(1, window)
    }

    /// The same durations in ascending order, kept as they come and go: every call asks for the
    /// percentile, and sorting the window for each was a measurable part of a call's CPU.
    var ascending: [Double] = []

    public mutating func record(seconds: Double) {
        recent.append(seconds)
        ascending.insert(seconds, at: Self.firstIndex(notBelow: seconds, in: ascending))
        while recent.count > window {
            ascending.remove(at: Self.firstIndex(notBelow: recent.removeFirst(), in: ascending))
        }
    }

    /// Seconds after which a running call is overdue; `nil` until enough calls were seen to say.
    public var overdueAfter: Double? {
        p90.map { max(floor, factor * $0) }
    }

    /// The 90th percentile of the recent durations; `nil` until enough calls were seen to say.
    public var p90: Double? {
        guard ascending.count >= 10 else { return nil }
        return ascending[min(ascending.count - 1, Int(Double(ascending.count) * 0.9))]
    }

    /// Where `value` goes in `sorted` (before any equal to it): a binary search.
    static func firstIndex(notBelow value: Double, in sorted: [Double]) -> Int {
        var (low, high) = (0, sorted.count)
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
