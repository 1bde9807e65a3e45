public import InMemoryTracing
public import Instrumentation
import SluiceEngine
import Synchronization
public import Tracing

/// The test process's tracer, bootstrapped once for every suite (the instrumentation system
/// takes one per process). It keeps only the spans of traces a test started with
/// ``startTrace(_:)`` — every other span of the run (each call of every engine test) ends
/// unrecorded, so the suite's memory does not grow with it.
public final class TestTracer: Tracer, Sendable {
    public typealias Span = InMemorySpan

    public static let shared: TestTracer = {
        let tracer = TestTracer()
        TraceContext.bootstrap(tracer)
        return tracer
    }()

    /// The finished spans of each watched trace, by trace id.
    private let kept = Mutex<[String: [FinishedInMemorySpan]]>([:])
    private let ids = Atomic<Int>(0)

    /// A root span of a new trace whose spans — here, or wherever its context is carried — are kept.
    public func startTrace(_ operationName: String) -> InMemorySpan {
        let context = InMemorySpanContext(traceID: nextID("trace"), spanID: nextID("span"), parentSpanID: nil)
        kept.withLock { $0[context.traceID] = [] }
        return span(operationName, context: .topLevel, spanContext: context, kind: .server, at: DefaultTracerClock.now)
    }

    /// The spans of a trace started by ``startTrace(_:)`` that have ended so far.
    public func finishedSpans(inTrace traceID: String) -> [FinishedInMemorySpan] {
        kept.withLock { $0[traceID] ?? [] }
    }

    public func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> ServiceContext, ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant, function: String, file fileID: String, line: UInt
    ) -> InMemorySpan {
        let parent = context()
        let spanContext =
            if let parentSpan = parent.inMemorySpanContext {
                InMemorySpanContext(traceID: parentSpan.traceID, spanID: nextID("span"), parentSpanID: parentSpan.spanID)
            } else {
                InMemorySpanContext(traceID: nextID("trace"), spanID: nextID("span"), parentSpanID: nil)
            }
        return span(operationName, context: parent, spanContext: spanContext, kind: kind, at: instant())
    }

    public func forceFlush() {}

    public func inject<Carrier, Inject: Injector>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject)
    where Carrier == Inject.Carrier {
        guard let spanContext = context.inMemorySpanContext else { return }
        injector.inject(spanContext.traceID, forKey: InMemoryTracer.traceIDKey, into: &carrier)
        injector.inject(spanContext.spanID, forKey: InMemoryTracer.spanIDKey, into: &carrier)
    }

    public func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract)
    where Carrier == Extract.Carrier {
        guard let traceID = extractor.extract(key: InMemoryTracer.traceIDKey, from: carrier),
            let spanID = extractor.extract(key: InMemoryTracer.spanIDKey, from: carrier)
        else { return }
        context.inMemorySpanContext = InMemorySpanContext(traceID: traceID, spanID: spanID, parentSpanID: nil)
    }

    private func span(
        _ operationName: String, context: ServiceContext, spanContext: InMemorySpanContext, kind: SpanKind, at instant: some TracerInstant
    ) -> InMemorySpan {
        InMemorySpan(operationName: operationName, context: context, spanContext: spanContext, kind: kind, startInstant: instant) {
            [self] finished in
            kept.withLock { kept in
                if kept[finished.traceID] != nil { kept[finished.traceID]!.append(finished) }
            }
        }
    }

    private func nextID(_ kind: String) -> String {
        "\(kind)-\(ids.wrappingAdd(1, ordering: .relaxed).newValue)"
    }
}
