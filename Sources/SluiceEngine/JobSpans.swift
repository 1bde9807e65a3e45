import Foundation
import SluiceCore
import SluiceStore
import Tracing

/// A job's own spans, in the trace of the request that created it: its ingest (reading the
/// upload into items) while it runs, and the whole job — from its first call to its end — once
/// it has ended, with the times the store recorded (its processes may be many).
enum JobSpans {
    /// Runs `ingest` inside the job's `ingest` span.
    static func ingest(_ job: Job, _ ingest: () async throws -> Job) async throws -> Job {
        let span = startSpan("ingest", context: TraceContext.context(from: job.traceContext))
        defer { span.end() }
        span.attributes["sluice.job_id"] = job.id
        do {
            let read = try await ServiceContext.withValue(span.context) { try await ingest() }
            span.attributes["sluice.items"] = SpanAttribute.int64(Int64(read.counts.total))
            span.attributes["sluice.job_status"] = read.status.rawValue
            if read.status == .failed { span.setStatus(SpanStatus(code: .error, message: read.statusReason)) }
            return read
        } catch {
            span.recordError(error)
            span.setStatus(SpanStatus(code: .error))
            throw error
        }
    }

    /// A claim round that leased some of the job's items to `worker` (rounds that found nothing
    /// make no span: an idle worker asks often).
    static func claimed(_ batch: ClaimedBatch, by worker: String, from start: Date, to end: Date) {
        guard TraceContext.isRecorded else { return }
        let span = startSpan("claim", at: instant(start), context: TraceContext.context(from: batch.job.traceContext))
        span.attributes["sluice.job_id"] = batch.job.id
        span.attributes["sluice.worker"] = worker
        span.attributes["sluice.items"] = SpanAttribute.int64(Int64(batch.items.count))
        span.end(at: instant(end))
    }

    /// The span of a job that has ended, from when it started (or was created) to when it ended.
    static func finished(_ job: Job) {
        let start = job.startedAt ?? job.createdAt
        let span = startSpan("job", at: instant(start), context: TraceContext.context(from: job.traceContext))
        span.attributes["sluice.job_id"] = job.id
        span.attributes["sluice.job_status"] = job.status.rawValue
        span.attributes["sluice.items"] = SpanAttribute.int64(Int64(job.counts.total))
        span.attributes["sluice.items_failed"] = SpanAttribute.int64(Int64(job.counts.failed))
        span.attributes["sluice.calls"] = SpanAttribute.int64(Int64(job.calls))
        span.attributes["gen_ai.usage.input_tokens"] = SpanAttribute.int64(Int64(job.usage.promptTokens))
        span.attributes["gen_ai.usage.output_tokens"] = SpanAttribute.int64(Int64(job.usage.completionTokens))
        if job.status != .completed { span.setStatus(SpanStatus(code: .error, message: job.statusReason)) }
        span.end(at: instant(job.finishedAt ?? Date()))
    }

    static func instant(_ date: Date) -> DefaultTracerClock.Timestamp {
        DefaultTracerClock.Timestamp(nanosecondsSinceEpoch: UInt64(max(0, date.timeIntervalSince1970) * 1_000_000_000))
    }
}
