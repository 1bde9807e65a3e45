import Foundation
import InMemoryTracing
import SluiceCore
import SluiceEngine
import SluiceProviders
import SluiceStore
import SluiceTestSupport
import Testing
import Tracing

/// A job's spans — its ingest, claim rounds, provider calls (OpenTelemetry's generative-AI
/// client spans) and the job itself — in the trace of the request that created it.
@Suite struct TracingTests {
    func attribute(_ span: FinishedInMemorySpan, _ name: String) -> SpanAttribute? {
        span.attributes[name]?.toSpanAttribute()
    }

    func int(_ span: FinishedInMemorySpan, _ name: String) -> Int64? {
        if case .int64(let value)? = attribute(span, name) { return value }
        return nil
    }

    @Test func aJobsIngestClaimsCallsAndEndAreSpansOfTheTraceThatCreatedIt() async throws {
        let tracer = TestTracer.shared
        let request = tracer.startTrace("POST /v1/jobs")
        let headers = TraceContext.headers(of: request.context)
        #expect(!headers.isEmpty, "the test instrument propagates")

        let harness = try await EngineHarness()
        let directory = TemporaryDirectory()
        let source = JobSource(path: directory.write("rows.csv", "id,text\n1,one\n2,two\n3,three\n"), displayName: "rows.csv", format: .csv)
        let spec = Fixtures.spec(["template": "{{text}}", "provider": "scripted", "model": "scripted-1"])
        let created = try await harness.store.createJob(
            NewJob(owner: "alice", name: "traced", spec: spec, sources: [source], traceContext: headers), now: Date())
        request.end()
        #expect(try await harness.store.job(id: created.id)?.traceContext == headers, "the job keeps its creator's trace")
        let queued = try await JobIngestor(store: harness.store, owner: "ingestor").takeAndIngest(jobID: created.id)
        #expect(queued.status == .queued)
        let provider = ScriptedProvider(name: "scripted") { _, _ throws(ProviderFailure) in "fine" }
        let done = try await harness.withRunning(harness.worker([provider])) {
            try await waitForJob(harness.store, created.id, until: { $0.status.isFinal })
        }
        #expect(done.status == .completed)
        // The job's span is made as its end is recorded, which may come just after the wait sees it.
        try await waitUntil("the job's span") { tracer.finishedSpans(inTrace: request.traceID).contains { $0.operationName == "job" } }

        let spans = tracer.finishedSpans(inTrace: request.traceID)
        #expect(spans.allSatisfy { $0.operationName == "POST /v1/jobs" || attribute($0, "sluice.job_id") == .string(created.id) })
        let children = spans.filter { $0.parentSpanID == request.spanID }
        #expect(children.count == spans.count - 1, "every span is a child of the creating request")

        let ingest = try #require(spans.first { $0.operationName == "ingest" })
        #expect(int(ingest, "sluice.items") == 3)
        #expect(attribute(ingest, "sluice.job_status") == .string("queued"))

        let claims = spans.filter { $0.operationName == "claim" }
        #expect(!claims.isEmpty)
        #expect(claims.compactMap { int($0, "sluice.items") }.reduce(0, +) == 3, "the rounds leased the three items between them")

        let calls = spans.filter { $0.operationName == "chat scripted-1" }
        #expect(calls.count == 3, "one span per call")
        for call in calls {
            #expect(call.kind == .client)
            #expect(attribute(call, "gen_ai.operation.name") == .string("chat"))
            #expect(attribute(call, "gen_ai.system") == .string("sluice"))
            #expect(attribute(call, "gen_ai.request.model") == .string("scripted-1"))
            #expect(int(call, "gen_ai.usage.input_tokens") == 10)
            #expect(int(call, "gen_ai.usage.output_tokens") == 5)
        }
        #expect(calls.compactMap { int($0, "sluice.item_index") }.sorted() == [0, 1, 2])

        let job = try #require(spans.first { $0.operationName == "job" })
        #expect(attribute(job, "sluice.job_status") == .string("completed"))
        #expect(int(job, "sluice.items") == 3)
        #expect(int(job, "sluice.calls") == 3)
        #expect(int(job, "gen_ai.usage.input_tokens") == 30)
        #expect(job.status == nil, "a completed job is not an error")
    }

    @Test func anUnreadableUploadEndsItsIngestSpanAsAnError() async throws {
        let tracer = TestTracer.shared
        let request = tracer.startTrace("POST /v1/jobs")
        let harness = try await EngineHarness()
        let directory = TemporaryDirectory()
        let source = JobSource(path: directory.write("bad.csv", "id,text\n1,\"never closed\n"), displayName: "bad.csv", format: .csv)
        let created = try await harness.store.createJob(
            NewJob(
                owner: "alice", name: "bad", spec: Fixtures.spec(["template": "{{text}}"]), sources: [source],
                traceContext: TraceContext.headers(of: request.context)), now: Date())
        request.end()
        let failed = try await JobIngestor(store: harness.store, owner: "ingestor").takeAndIngest(jobID: created.id)
        #expect(failed.status == .failed)
        let ingest = try #require(tracer.finishedSpans(inTrace: request.traceID).first { $0.operationName == "ingest" })
        #expect(ingest.status?.code == .error)
        #expect(attribute(ingest, "sluice.job_status") == .string("failed"))
    }

    @Test func aJobMadeOutsideAnyTraceStartsItsOwn() async throws {
        _ = TestTracer.shared
        let headers = TraceContext.forNewJob()
        #expect(!headers.isEmpty, "a recording tracer gives the job a trace of its own")
        #expect(TraceContext.context(from: headers).inMemorySpanContext?.traceID != nil)
    }
}
