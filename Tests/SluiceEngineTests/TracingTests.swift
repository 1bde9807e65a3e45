import Foundation
import InMemoryTracing
import SluiceCore
import SluiceEngine
import SluiceProviders
import SluiceStore
import SluiceTestSupport
import Testing
import Tracing

/// Provider calls as OpenTelemetry generative-AI spans, in the trace of the request that made the job.
@Suite struct TracingTests {
    @Test func eachCallIsASpanOfTheJobsTraceWithItsModelTokensAndItems() async throws {
        let tracer = TestTracer.shared
        let parent = tracer.startAnySpan("POST /v1/jobs", context: .topLevel)
        let headers = TraceContext.headers(of: parent.context)
        parent.end()
        #expect(!headers.isEmpty, "the in-memory instrument propagates")

        let harness = try await EngineHarness()
        let validating = try await Fixtures.validatingJob(
            in: harness.store, spec: Fixtures.spec(["template": "{{text}}", "provider": "scripted", "model": "scripted-1"]), owner: "alice",
            keyID: nil, now: Date(), traceContext: headers)
        #expect(try await harness.store.job(id: validating.id)?.traceContext == headers, "the job keeps its creator's trace")
        let items = (0..<3).map { NewItem(index: $0, groupKey: nil, input: JSONObject([("text", .string("row \($0)"))])) }
        try await harness.store.appendItems(jobID: validating.id, owner: Fixtures.ingestor, items: items)
        _ = try await harness.store.finishValidation(jobID: validating.id, owner: Fixtures.ingestor, now: Date())
        let provider = ScriptedProvider(name: "scripted") { _, _ throws(ProviderFailure) in "fine" }
        let done = try await harness.withRunning(harness.worker([provider])) {
            try await waitForJob(harness.store, validating.id, until: { $0.status.isFinal })
        }
        #expect(done.status == .completed)

        let spans = tracer.finishedSpans.filter { $0.attributes["sluice.job_id"]?.toSpanAttribute() == .string(validating.id) }
        #expect(spans.count == 3, "one span per call")
        let parentContext = try #require(parent.context.inMemorySpanContext)
        for span in spans {
            #expect(span.operationName == "chat scripted-1" && span.kind == .client)
            #expect(span.traceID == parentContext.traceID && span.parentSpanID == parentContext.spanID, "a child of the request")
            #expect(span.attributes["gen_ai.system"]?.toSpanAttribute() == .string("sluice"))
            #expect(span.attributes["gen_ai.request.model"]?.toSpanAttribute() == .string("scripted-1"))
            #expect(span.attributes["gen_ai.usage.input_tokens"]?.toSpanAttribute() == .int64(10))
            #expect(span.attributes["gen_ai.usage.output_tokens"]?.toSpanAttribute() == .int64(5))
        }
        let indexes = spans.compactMap { span -> Int64? in
            if case .int64(let index)? = span.attributes["sluice.item_index"]?.toSpanAttribute() { return index }
            return nil
        }
        #expect(indexes.sorted() == [0, 1, 2])
    }
}
