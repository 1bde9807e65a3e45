import SluiceCore
import SluiceProviders
import Tracing

/// A provider call as OpenTelemetry's generative-AI client span (`chat gpt-4o-mini`): whose API
/// (`gen_ai.system`), the model asked for and the one that answered, the tokens each way, the
/// finish reason, and which job's items it answered (`sluice.job_id`, `sluice.item_index`).
/// Through the process's tracer (swift-distributed-tracing's `InstrumentationSystem`): with none
/// bootstrapped (no OTLP endpoint), nothing at all.
enum CallSpan {
    typealias Answer = (answer: Swift.Result<ModelReply, ProviderFailure>, calls: Int)

    static func around(
        _ request: ModelRequest, provider: any ModelProvider, job: Job, items: [Item], _ call: () async -> Answer
    ) async -> Answer {
        // With no tracer that records, the call alone: no span, no attribute values made.
        guard TraceContext.isRecorded else { return await call() }
        let operation =
            switch request.operation {
            case .chat: "chat"
            case .embeddings: "embeddings"
            }
        // A child of the request that created the job, whichever process runs it.
        let span = startSpan("\(operation) \(request.model)", context: TraceContext.context(from: job.traceContext), ofKind: .client)
        defer { span.end() }
        span.attributes["gen_ai.operation.name"] = operation
        span.attributes["gen_ai.system"] = provider.system
        span.attributes["gen_ai.request.model"] = request.model
        span.attributes["sluice.provider"] = provider.name
        span.attributes["sluice.job_id"] = job.id
        if items.count == 1 {
            span.attributes["sluice.item_index"] = SpanAttribute.int64(Int64(items[0].index))
        } else {
            span.attributes["sluice.item_index"] = SpanAttribute.int64Array(items.map { Int64($0.index) })
        }
        // Current while the call runs: its logs carry the span's ids, its hedge is its child.
        let result = await ServiceContext.withValue(span.context) { await call() }
        switch result.answer {
        case .success(let reply):
            span.attributes["gen_ai.response.model"] = reply.model
            span.attributes["gen_ai.usage.input_tokens"] = SpanAttribute.int64(Int64(reply.usage.promptTokens))
            span.attributes["gen_ai.usage.output_tokens"] = SpanAttribute.int64(Int64(reply.usage.completionTokens))
            if let reason = reply.finishReason { span.attributes["gen_ai.response.finish_reasons"] = SpanAttribute.stringArray([reason]) }
        case .failure(let error):
            span.attributes["error.type"] = error.metricOutcome
            span.setStatus(SpanStatus(code: .error, message: error.message))
        }
        if result.calls > 1 { span.attributes["sluice.hedged"] = true }
        return result
    }
}
