public import Foundation
import SluiceCore

/// A job's pace over its life, for the job page's chart: counted in wall-clock buckets as
/// outcomes are recorded, so drawing it never scans the job's items.
public enum JobActivity {
    public static let bucketSeconds = 5.0

    public struct Sample: Sendable, Equatable {
        /// When the bucket starts.
        public var start: Date
        public var finished: Int
        /// Items sent back to wait because the provider answered their call with 429.
        public var throttled: Int

        public init(start: Date = Date(timeIntervalSince1970: 0), finished: Int = 0, throttled: Int = 0) {
            self.start = start
            self.finished = finished
            self.throttled = throttled
        }
    }

    /// The bucket a moment falls in.
    public static func bucket(of date: Date) -> Int64 { Int64((date.timeIntervalSince1970 / bucketSeconds).rounded(.down)) }
}
