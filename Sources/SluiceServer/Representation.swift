import Foundation
import SluiceCore
import SluiceStore

/// The JSON shapes the native API answers with: the contract's job object, items and lists.
enum Representation {
    /// RFC 3339 in UTC, whole seconds (truncated, so a time is never shown later than it was).
    static func timestamp(_ date: Date?) -> JSONValue {
        guard let date else { return .null }
        return .string(Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)).formatted(.iso8601))
    }

    static func usage(_ usage: TokenUsage) -> JSONValue {
        [
            "prompt_tokens": .int(usage.promptTokens), "completion_tokens": .int(usage.completionTokens),
            "total_tokens": .int(usage.promptTokens + usage.completionTokens), "cached_tokens": .int(usage.cachedTokens),
            "cache_write_tokens": .int(usage.cacheWriteTokens), "reasoning_tokens": .int(usage.reasoningTokens),
        ]
    }

    static func counts(_ counts: JobCounts) -> JSONValue {
        [
            "total": .int(counts.total), "pending": .int(counts.pending), "running": .int(counts.running),
            "succeeded": .int(counts.succeeded), "failed": .int(counts.failed), "cancelled": .int(counts.cancelled),
        ]
    }

    /// The job object: identity, status, exact counts, progress, throughput and ETA, spending
    /// against its budget, times, errors.
    static func job(_ job: Job, now: Date) -> JSONValue {
        var object = JSONObject()
        object["id"] = .string(job.id)
        object["object"] = .string("job")
        object["name"] = .string(job.name)
        object["status"] = .string(job.status.rawValue)
        object["status_reason"] = job.statusReason.map(JSONValue.string) ?? .null
        object["stage"] = job.stage.map { .string($0.rawValue) } ?? .null
        object["message"] = job.progressMessage.map(JSONValue.string) ?? .null
        var counts = counts(job.counts).objectValue!
        counts["cached"] = .int(job.cached)
        object["counts"] = .object(counts)
        object["progress"] = .double(job.progress)
        var usage = usage(job.usage).objectValue!
        // Calls next to rows: with rows packed, the calls a job saved are plain to see.
        usage["calls"] = .int(job.calls)
        let called = job.counts.succeeded - job.cached + job.counts.failed
        usage["rows_per_call"] = job.calls == 0 ? .null : .double((Double(called) / Double(job.calls) * 100).rounded() / 100)
        usage["cost_usd"] = .double(Double(job.costMicros) / 1_000_000)
        // What the same calls cost at the list price, and what the prompt cache and the tier saved.
        usage["list_cost_usd"] = .double(Double(job.listCostMicros) / 1_000_000)
        usage["saved_usd"] = .double(Double(max(0, job.listCostMicros - job.costMicros)) / 1_000_000)
        usage["calls_by_tier"] = [
            "standard": .int(job.calls - job.flexCalls - job.batchCalls), "flex": .int(job.flexCalls), "batch": .int(job.batchCalls),
        ]
        object["usage"] = .object(usage)
        object["tier"] = .string(job.spec.tier.rawValue)
        object["priority"] = .string(job.spec.priority.rawValue)
        object["deadline"] = job.spec.deadlineSeconds.map { .string(JobDeadline.text($0)) } ?? .null
        // When the job expires (its deadline, or a batch's completion window) and the time left.
        object["expires_at"] = job.expiresAt.map(timestamp) ?? .null
        object["seconds_left"] =
            job.expiresAt.map { job.status.isFinal ? .int(0) : .int(max(0, Int($0.timeIntervalSince(now).rounded(.down)))) } ?? .null
        object["budget"] = job.spec.budget?.json ?? .null
        object["max_reply_tokens"] = .int(job.spec.maxReplyTokens)
        object["failure_brake"] = job.spec.failureBrake.map { ["window": .int($0.window), "rate": .double($0.rate)] } ?? .null
        let rate = Self.rate(job, now: now)
        object["items_per_second"] = rate.map { .double(($0 * 100).rounded() / 100) } ?? .null
        let remaining = job.counts.pending + job.counts.running
        if job.status.isFinal {
            object["eta_seconds"] = .int(0)
        } else if let rate, rate > 0 {
            object["eta_seconds"] = .int(Int((Double(remaining) / rate).rounded(.up)))
        } else {
            object["eta_seconds"] = .null
        }
        object["provider"] = .string(job.spec.provider)
        object["model"] = .string(job.spec.model)
        object["files"] = .array(job.sources.map { .string($0.displayName) })
        object["created_at"] = timestamp(job.createdAt)
        object["started_at"] = timestamp(job.startedAt)
        object["finished_at"] = timestamp(job.finishedAt)
        object["errors"] = .array(job.errors.map(\.json))
        if let batch = job.batch { object["batch"] = batch.json }
        return .object(object)
    }

    /// Items finished per second since the job started, while it has started.
    static func rate(_ job: Job, now: Date) -> Double? {
        guard let started = job.startedAt else { return nil }
        let end = job.finishedAt ?? now
        let seconds = end.timeIntervalSince(started)
        let done = job.counts.succeeded + job.counts.failed
        guard seconds > 0, done > 0 else { return nil }
        return Double(done) / seconds
    }

    static func item(_ item: Item) -> JSONValue {
        var object = JSONObject()
        object["index"] = .int(item.index)
        object["status"] = .string(item.status.rawValue)
        object["input"] = .object(item.input)
        object["output"] = item.output ?? .null
        object["error"] = item.error.map(JSONValue.string) ?? .null
        object["attempts"] = .int(item.attempts)
        object["usage"] = usage(item.usage)
        object["model"] = item.model.map(JSONValue.string) ?? .null
        object["cached"] = .bool(item.cached)
        object["finish_reason"] = item.finishReason.map(JSONValue.string) ?? .null
        object["reply_tokens"] = item.replyTokens.map(JSONValue.int) ?? .null
        object["started_at"] = timestamp(item.startedAt)
        object["finished_at"] = timestamp(item.finishedAt)
        return .object(object)
    }

    /// A page in OpenAI's list shape, which the native API uses too. `rows` were fetched with
    /// one more than `limit`, so whether there is more is known without counting.
    static func page<Row>(_ rows: [Row], limit: Int, id: (Row) -> String, render: (Row) -> JSONValue) -> JSONValue {
        let shown = rows.prefix(limit)
        return [
            "object": "list", "data": .array(shown.map(render)), "first_id": shown.first.map { .string(id($0)) } ?? .null,
            "last_id": shown.last.map { .string(id($0)) } ?? .null, "has_more": .bool(rows.count > limit),
        ]
    }
}
