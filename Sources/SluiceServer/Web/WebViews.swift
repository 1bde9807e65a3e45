import Foundation
import SluiceCore
import SluiceEngine
import SluiceStore

/// What the page templates show, worked out from jobs, items and previews: plain values for
/// logic-less templates, so every decision (which buttons, which downloads) is made here.
enum WebViews {
    /// A job as a list row and as the head of its page.
    static func job(_ job: Job, now: Date) -> [String: Any] {
        let counts = job.counts
        let rate = Representation.rate(job, now: now)
        let remaining = counts.pending + counts.running
        var view: [String: Any] = [
            "id": job.id, "name": job.name, "status": job.status.rawValue, "statusLabel": statusLabel(job.status),
            "isFinal": job.status.isFinal, "total": counts.total, "finished": counts.finished, "succeeded": counts.succeeded,
            "failed": counts.failed, "pending": counts.pending, "running": counts.running, "cancelled": counts.cancelled,
            // A `<progress>` over the items; a job with none is 0 of 1, or 1 of 1 once it ended.
            "cached": job.cached, "progressMax": max(counts.total, 1),
            "progressValue": counts.total == 0 ? Int(job.progress) : counts.finished,
            "percent": Int((job.progress * 100).rounded(.down)), "rate": rate.map { String(format: "%.1f/s", $0) } ?? "–",
            "eta": job.status.isFinal ? "done" : rate.flatMap { $0 > 0 ? duration(Double(remaining) / $0) : nil } ?? "–",
            "created": Representation.timestamp(job.createdAt).stringValue ?? "",
            "provider": job.spec.provider, "model": job.spec.model, "files": job.sources.map(\.displayName).joined(separator: ", "),
            "calls": job.calls, "tokens": job.usage.promptTokens + job.usage.completionTokens,
        ]
        view["countsText"] =
            "\(counts.finished)/\(counts.total) · ok \(counts.succeeded) · failed \(counts.failed)"
            + (counts.cancelled > 0 ? " · cancelled \(counts.cancelled)" : "")
        view["hasCachedTokens"] = job.usage.cachedTokens > 0
        view["cachedTokens"] = job.usage.cachedTokens
        view["hasCost"] = job.costMicros > 0
        view["cost"] = String(format: "$%.4f", Double(job.costMicros) / 1_000_000)
        view["hasSaving"] = job.listCostMicros > job.costMicros
        view["saved"] = String(format: "$%.4f", Double(max(0, job.listCostMicros - job.costMicros)) / 1_000_000)
        view["tier"] = job.spec.tier.rawValue
        view["tierCalls"] =
            job.flexCalls + job.batchCalls > 0
            ? "\(job.calls - job.flexCalls - job.batchCalls) standard, \(job.flexCalls) flex, \(job.batchCalls) batch" : ""
        view["priority"] = job.spec.priority.rawValue
        view["hasDeadline"] = job.expiresAt != nil
        view["timeLeft"] =
            job.expiresAt.map { job.status.isFinal ? "ended" : duration(max(0, $0.timeIntervalSince(now))) + " left" } ?? ""
        view["deadlineAt"] = job.expiresAt.flatMap { Representation.timestamp($0).stringValue } ?? ""
        view["quotaPaused"] = job.status == .paused && job.statusReason?.hasPrefix(KeyQuota.reasonPrefix) == true
        view["message"] = job.progressMessage ?? job.statusReason ?? ""
        view["statusReason"] = job.statusReason ?? ""
        view["canCancel"] = JobAction.cancel.allowedFrom.contains(job.status) && job.status != .cancelling
        view["canPause"] = [.queued, .running].contains(job.status)
        view["canResume"] = JobAction.resume.allowedFrom.contains(job.status)
        view["canRetry"] = JobAction.retryFailed.allowedFrom.contains(job.status) && counts.failed > 0
        view["hasResult"] = job.spec.reduce != nil
        view["hasResults"] = counts.total > 0
        view["errors"] = job.errors.map { error in
            let place = place(of: error)
            return ["where": place, "hasPlace": !place.isEmpty, "message": error.message] as [String: Any]
        }
        view["hasErrors"] = !job.errors.isEmpty
        return view
    }

    /// The usage page's chart and table, from the ledger's rows over `days`.
    static func usage(_ rows: [UsageRow], days: [String]) -> [String: Any] {
        var merged: [String: UsageRow] = [:]
        for row in rows {
            let key = [row.user, row.provider, row.model].joined(separator: "\u{0}")
            var sum =
                merged[key]
                ?? UsageRow(
                    day: "", user: row.user, provider: row.provider, model: row.model, calls: 0, promptTokens: 0, completionTokens: 0,
                    cachedTokens: 0, costMicros: 0)
            sum.calls += row.calls
            sum.promptTokens += row.promptTokens
            sum.completionTokens += row.completionTokens
            sum.cachedTokens += row.cachedTokens
            sum.costMicros += row.costMicros
            merged[key] = sum
        }
        let chart = SpendChart(rows: rows, days: days)
        return [
            "svg": chart.svg, "summary": chart.summary, "unit": chart.showsCost ? "dollars" : "tokens",
            "hasRows": !merged.isEmpty,
            "rows": merged.values.sorted { ($0.user, $0.provider, $0.model) < ($1.user, $1.provider, $1.model) }.map {
                row -> [String: Any] in
                [
                    "user": row.user, "provider": row.provider, "model": row.model, "calls": row.calls, "prompt": row.promptTokens,
                    "cached": row.cachedTokens, "completion": row.completionTokens,
                    "cost": String(format: "$%.4f", Double(row.costMicros) / 1_000_000),
                ]
            },
        ]
    }

    /// "12,345 tokens · $0.0420": a key's spending in a window.
    static func spent(tokens: Int64, micros: Int64) -> String {
        "\(tokens) tokens · " + String(format: "$%.4f", Double(micros) / 1_000_000)
    }

    /// One worker's reading of one provider key, as the team view's row: where the limit came
    /// from, the ceiling and the pace now, and what holds calls back.
    static func reading(_ reading: ProviderReading, now: Date) -> [String: Any] {
        let limits = reading.limits
        func perMinute(_ value: Double?) -> String { value.map { String(Int($0.rounded())) } ?? "—" }
        let source =
            switch limits.source {
            case .reported: "the provider's headers"
            case .learned: "429s (no limit stated)"
            case .configured: "configuration"
            case .unknown: "not known yet"
            }
        var state: [String] = []
        if let open = reading.circuitOpenUntil, open > now { state.append("circuit open for \(duration(open.timeIntervalSince(now)))") }
        if let blocked = limits.blockedUntil, blocked > now {
            state.append("held by a 429 for \(duration(blocked.timeIntervalSince(now)))")
        }
        if !limits.burstsAllowed { state.append("no bursts") }
        return [
            "provider": reading.provider, "worker": reading.worker, "source": source,
            "rpm": perMinute(limits.requestsPerMinute), "pacedRPM": perMinute(limits.pacedRequestsPerMinute),
            "tpm": perMinute(limits.tokensPerMinute), "pacedTPM": perMinute(limits.pacedTokensPerMinute),
            "state": state.isEmpty ? "calling" : state.joined(separator: ", "), "inFlight": limits.callsInFlight,
            "age": duration(max(0, now.timeIntervalSince(reading.reportedAt))),
        ]
    }

    /// "line 3, column 7 of chats.csv: …" — where a problem is, as a person reads it.
    static func place(of error: JobErrorEntry) -> String {
        var parts: [String] = []
        if let item = error.item { parts.append("item \(item)") }
        if let line = error.line { parts.append("line \(line)") }
        if let column = error.column { parts.append("column \(column)") }
        var text = parts.joined(separator: ", ")
        if let file = error.file { text += text.isEmpty ? file : " of \(file)" }
        return text
    }

    static func statusLabel(_ status: JobStatus) -> String {
        status.rawValue.replacingOccurrences(of: "_", with: " ")
    }

    /// "45s", "3m 05s", "2h 10m".
    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded(.up))
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return String(format: "%dm %02ds", whole / 60, whole % 60) }
        return String(format: "%dh %02dm", whole / 3600, (whole % 3600) / 60)
    }

    /// A failed item: its index, why it failed, and its input as JSON.
    static func failedItem(_ item: Item) -> [String: Any] {
        ["index": item.index, "error": item.error ?? "", "input": JSONWriter.string(.object(item.input)), "attempts": item.attempts]
    }

    /// The new-job form's preview: the first rows and the messages the first would send.
    static func preview(_ preview: JobPreview) -> [String: Any] {
        var view: [String: Any] = [
            "columns": preview.columns, "rows": preview.rows.map { ["cells": $0] }, "hasRows": !preview.rows.isEmpty,
        ]
        if let problem = preview.problem {
            let place = place(of: problem)
            view["problem"] = place.isEmpty ? problem.message : "\(place): \(problem.message)"
            view["hasProblem"] = true
        }
        if let request = preview.request {
            var messages: [[String: String]] = []
            if let system = request.system { messages.append(["role": "system", "content": system]) }
            messages += request.messages.map { message in
                [
                    "role": message.role.rawValue,
                    "content": ([message.content] + message.images.map { "[\($0.summary)]" }).joined(separator: "\n"),
                ]
            }
            view["messages"] = messages
            view["hasMessages"] = true
            view["model"] = request.model
            if let schema = request.outputSchema {
                view["schema"] = JSONWriter.string(schema.json)
                view["hasSchema"] = true
            }
        }
        return view
    }
}
