import AsyncHTTPClient
import Foundation
import InMemoryTracing
import NIOCore
import NIOHTTP1
import SluiceCore
import SluiceStore
import SluiceTestSupport
import Testing
import Tracing

/// The API's span per request continues the caller's trace (its propagation headers), and the job the request creates
/// keeps that span as the parent of everything it does.
@Suite struct TracingAPITests {
    @Test func aRequestContinuesTheCallersTraceAndItsJobsCallsJoinIt() async throws {
        let tracer = TestTracer.shared
        let caller = tracer.startTrace("client")
        try await ServerHarness.with { server in
            // The harness's HTTP client is instrumented: it sends the caller's context, as the
            // caller's own client would (`traceparent` with an OpenTelemetry tracer).
            let reply = try await ServiceContext.withValue(caller.context) {
                try await server.call(
                    .POST, "/v1/jobs?preset=text-classify", headers: [("Content-Type", "text/csv")],
                    body: .bytes(ByteBuffer(string: reviewsCSV(4))))
            }
            #expect(reply.status == 202, "\(reply.text)")
            let id = try #require(reply.json["id"]?.stringValue)
            _ = try await server.waitFor(id, until: ServerHarness.isFinal)
            caller.end()
            try await waitUntil("the job's span") { tracer.finishedSpans(inTrace: caller.traceID).contains { $0.operationName == "job" } }

            let spans = tracer.finishedSpans(inTrace: caller.traceID)
            let http = try #require(spans.first { $0.operationName == "/v1/jobs" })
            #expect(http.kind == .server)
            let parent = try #require(spans.first { $0.spanID == http.parentSpanID }, "the request's span continues the caller's trace")
            #expect(
                parent.spanID == caller.spanID || parent.parentSpanID == caller.spanID, "its parent is the caller's or its client's span")
            let stored = try #require(try await server.store.job(id: id))
            #expect(stored.traceContext[InMemoryTracer.spanIDKey] == http.spanID, "the job keeps the request's span")
            let ofTheJob = spans.filter { $0.parentSpanID == http.spanID }
            #expect(Set(ofTheJob.map(\.operationName)).isSuperset(of: ["ingest", "claim", "job"]))
            #expect(ofTheJob.filter { $0.operationName.hasPrefix("chat ") }.count == 4, "one span per call")
        }
    }
}
