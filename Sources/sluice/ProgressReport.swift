import Foundation
import SluiceCore

/// One line describing a job's progress: a bar on a terminal, plain text in logs.
struct ProgressReport {
    var counts: JobCounts
    var status: JobStatus
    /// Items finished during this run and the seconds it has taken, for the rate and ETA.
    var finishedThisRun: Int
    var elapsed: Double
    /// What a job with steps is doing (see ``Job/progressMessage``).
    var message: String? = nil

    var rate: Double { elapsed > 0 ? Double(finishedThisRun) / elapsed : 0 }

    var eta: Double? {
        let remaining = counts.pending + counts.running
        guard rate > 0, remaining > 0 else { return nil }
        return Double(remaining) / rate
    }

    func bar(width: Int = 28) -> String {
        let filled = Int((counts.progress * Double(width)).rounded(.down))
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]"
    }

    var summary: String {
        var text = String(format: "%3.0f%% %d/%d", counts.progress * 100, counts.finished, counts.total)
        text += " · ok \(counts.succeeded) · failed \(counts.failed)"
        if counts.cancelled > 0 { text += " · cancelled \(counts.cancelled)" }
        text += String(format: " · %.0f items/s", rate)
        if let eta { text += " · ETA " + Self.duration(eta) }
        if status == .paused { text += " · paused" }
        if let message { text += " · " + message }
        return text
    }

    static func duration(_ seconds: Double) -> String {
        if seconds < 60 { return String(format: "%.1fs", seconds) }
        let whole = Int(seconds)
        return whole < 3600 ? "\(whole / 60)m\(whole % 60)s" : "\(whole / 3600)h\((whole % 3600) / 60)m"
    }
}
