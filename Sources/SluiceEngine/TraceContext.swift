public import Instrumentation
public import ServiceContextModule
import Synchronization
public import Tracing

/// A trace context carried by a job from the request that created it to the processes that run
/// it: the propagation headers the process's instrument writes (W3C `traceparent`/`tracestate`
/// with OpenTelemetry's), kept with the job, read back as the parent of its spans.
public enum TraceContext {
    /// Makes `tracer` the process's (once per process, as the instrumentation system allows)
    /// and notes that spans are recorded from now on.
    public static func bootstrap(_ tracer: some Tracer) {
        InstrumentationSystem.bootstrap(tracer)
        recording.store(true, ordering: .releasing)
    }

    /// Whether a recording tracer was bootstrapped. Read before every provider call, so a flag
    /// rather than asking the instrumentation system (dynamic casts of its instruments).
    static var isRecorded: Bool { recording.load(ordering: .acquiring) }

    private static let recording = Atomic<Bool>(false)

    /// The propagation headers of the current context (empty with no instrument, or none current).
    public static func headers(of context: ServiceContext? = ServiceContext.current) -> [String: String] {
        guard let context else { return [:] }
        var headers: [String: String] = [:]
        InstrumentationSystem.instrument.inject(context, into: &headers, using: Headers())
        return headers
    }

    /// The trace a new job joins: the current one (the request creating it), or — when spans
    /// are recorded and none is current, as in `sluice run` — a new trace whose root span marks
    /// the job's creation, so its ingest, claims and calls make one trace rather than one each.
    public static func forNewJob() -> [String: String] {
        let current = headers()
        guard current.isEmpty, isRecorded else { return current }
        let span = startSpan("create job", context: .topLevel)
        defer { span.end() }
        return headers(of: span.context)
    }

    /// The context `headers` describe, to start spans in (top level when they describe none).
    public static func context(from headers: [String: String]) -> ServiceContext {
        var context = ServiceContext.topLevel
        if !headers.isEmpty { InstrumentationSystem.instrument.extract(headers, into: &context, using: Headers()) }
        return context
    }

    struct Headers: Injector, Extractor {
        func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
        func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
    }
}
