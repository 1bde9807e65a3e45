import Foundation
import SluiceStore

/// The usage page's chart: what was spent each day of the span — dollars where calls are
/// priced, tokens where none is — as inline SVG bars, with the words the chart shows.
struct SpendChart {
    static let width = 600.0
    static let height = 120.0

    struct Bar: Equatable {
        var day: String
        var costMicros: Int64 = 0
        var tokens: Int64 = 0
    }

    let bars: [Bar]

    /// One bar per day from `from` through `through` (at most ``UsageRoutes/maximumDays``), from the ledger's rows.
    init(rows: [UsageRow], days: [String]) {
        var bars = days.map { Bar(day: $0) }
        let index = Dictionary(uniqueKeysWithValues: days.enumerated().map { ($1, $0) })
        for row in rows {
            guard let at = index[row.day] else { continue }
            bars[at].costMicros += row.costMicros
            bars[at].tokens += row.promptTokens + row.completionTokens
        }
        self.bars = bars
    }

    /// Dollars when any call was priced, else tokens.
    var showsCost: Bool { bars.contains { $0.costMicros > 0 } }

    func value(_ bar: Bar) -> Double { showsCost ? Double(bar.costMicros) / 1_000_000 : Double(bar.tokens) }

    var summary: String {
        guard let peak = bars.max(by: { value($0) < value($1) }), value(peak) > 0 else { return "Nothing spent in this span." }
        let total = bars.reduce(0) { $0 + value($1) }
        return showsCost
            ? String(format: "$%.4f spent; the most, $%.4f, on %@.", total, value(peak), peak.day)
            : "\(Int(total)) tokens spent; the most, \(Int(value(peak))), on \(peak.day)."
    }

    var svg: String {
        let peak = bars.map(value).max() ?? 0
        let step = Self.width / Double(max(bars.count, 1))
        var shapes = ""
        for (index, bar) in bars.enumerated() where value(bar) > 0 {
            let h = max(1, value(bar) / peak * Self.height)
            let tip = showsCost ? String(format: "%@: $%.4f", bar.day, value(bar)) : "\(bar.day): \(bar.tokens) tokens"
            shapes +=
                "<rect class=\"rate\" x=\"\(ActivityChart.number(Double(index) * step + 1))\" y=\"\(ActivityChart.number(Self.height - h))\" width=\"\(ActivityChart.number(max(step - 2, 1)))\" height=\"\(ActivityChart.number(h))\"><title>\(tip)</title></rect>"
        }
        return """
            <svg class="chart" viewBox="0 0 \(Int(Self.width)) \(Int(Self.height))" role="img" aria-label="\(summary)" \
            preserveAspectRatio="none" xmlns="http://www.w3.org/2000/svg">\(shapes)</svg>
            """
    }
}
