import Foundation
import SluiceStore

/// The job page's chart of items per second and throttling over the job's life, drawn as
/// inline SVG (no script, no library): the stored buckets are merged into at most
/// ``maximumBars`` columns so a long job stays readable, and the chart carries a text
/// summary for those who cannot see it.
struct ActivityChart {
    static let maximumBars = 60
    static let width = 600.0
    static let height = 140.0
    /// Room at the bottom for the throttling strip.
    static let strip = 14.0

    struct Bar: Equatable {
        var start: Date
        var seconds: Double
        var finished: Int
        var throttled: Int
        var rate: Double { finished == 0 ? 0 : Double(finished) / seconds }
    }

    let bars: [Bar]
    /// The job's start, and its end or now.
    let start: Date
    let end: Date

    /// Buckets from `from` to `to` (the job's start and its end or now), merged evenly.
    init(samples: [JobActivity.Sample], from start: Date, to end: Date) {
        let first = Double(JobActivity.bucket(of: start)) * JobActivity.bucketSeconds
        let last = max(Double(JobActivity.bucket(of: end)) * JobActivity.bucketSeconds, first)
        let buckets = Int(((last - first) / JobActivity.bucketSeconds).rounded()) + 1
        let perBar = max(1, Int((Double(buckets) / Double(Self.maximumBars)).rounded(.up)))
        let count = (buckets + perBar - 1) / perBar
        var bars = (0..<count).map { index in
            let from = first + Double(index * perBar) * JobActivity.bucketSeconds
            // A bar's rate is over the part of it the job was running: the first and last are partial.
            let seconds =
                min(from + Double(perBar) * JobActivity.bucketSeconds, end.timeIntervalSince1970) - max(from, start.timeIntervalSince1970)
            return Bar(start: Date(timeIntervalSince1970: from), seconds: max(seconds, 0.001), finished: 0, throttled: 0)
        }
        for sample in samples {
            let index = Int(((sample.start.timeIntervalSince1970 - first) / JobActivity.bucketSeconds).rounded()) / perBar
            guard bars.indices.contains(index) else { continue }
            bars[index].finished += sample.finished
            bars[index].throttled += sample.throttled
        }
        self.bars = bars
        self.start = start
        self.end = end
    }

    var peakRate: Double { bars.map(\.rate).max() ?? 0 }
    var totalThrottled: Int { bars.reduce(0) { $0 + $1.throttled } }

    /// What the chart shows, in words: its accessible name and its caption.
    var summary: String {
        let finished = bars.reduce(0) { $0 + $1.finished }
        guard finished > 0 || totalThrottled > 0 else { return "No items finished yet." }
        var text = String(format: "Peak %.1f items per second", peakRate)
        text +=
            totalThrottled == 0 ? "; the provider throttled nothing." : "; \(totalThrottled) items held back by provider throttling (429)."
        return text
    }

    var svg: String {
        let plot = Self.height - Self.strip
        let step = Self.width / Double(max(bars.count, 1))
        let scale = peakRate > 0 ? plot / peakRate : 0
        var shapes = ""
        for (index, bar) in bars.enumerated() {
            let x = Double(index) * step
            let tip = "\(Self.clock(bar.start)): \(Self.number(bar.rate)) items/s, \(bar.throttled) throttled"
            let width = Self.number(max(step - 2, 1))
            if bar.finished > 0 {
                let h = max(1, bar.rate * scale)
                shapes +=
                    "<rect class=\"rate\" x=\"\(Self.number(x + 1))\" y=\"\(Self.number(plot - h))\" width=\"\(width)\" height=\"\(Self.number(h))\"><title>\(tip)</title></rect>"
            }
            if bar.throttled > 0 {
                shapes +=
                    "<rect class=\"throttle\" x=\"\(Self.number(x + 1))\" y=\"\(Self.number(plot + 3))\" width=\"\(width)\" height=\"\(Self.number(Self.strip - 6))\"><title>\(tip)</title></rect>"
            }
        }
        let axis = "<line class=\"axis\" x1=\"0\" y1=\"\(Self.number(plot))\" x2=\"\(Int(Self.width))\" y2=\"\(Self.number(plot))\"/>"
        // No text inside: the drawing stretches to the page's width, and its words are in the caption.
        return """
            <svg class="chart" viewBox="0 0 \(Int(Self.width)) \(Int(Self.height))" role="img" aria-label="\(summary)" \
            preserveAspectRatio="none" xmlns="http://www.w3.org/2000/svg">\(shapes)\(axis)</svg>
            """
    }

    /// The span the chart covers, as the caption says it: "11:35:00–11:42:30 UTC".
    var span: String {
        "\(Self.clock(start))–\(Self.clock(end)) UTC"
    }

    /// One decimal place, as SVG coordinates and rates are shown.
    static func number(_ value: Double) -> String { String(format: "%.1f", value) }

    /// "14:03:25" in UTC, as the page's other times are.
    static func clock(_ date: Date) -> String {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down)) % 86_400
        return String(format: "%02d:%02d:%02d", seconds / 3600, (seconds % 3600) / 60, seconds % 60)
    }
}
