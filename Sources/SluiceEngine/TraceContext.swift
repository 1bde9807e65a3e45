public import Instrumentation
public import ServiceContextModule

/// A trace context carried by a job from the request that created it to the processes that run
/// it: the propagation headers the process's instrument writes (W3C `traceparent`/`tracestate`
/// with OpenTelemetry's), kept with the job, read back as the parent of its spans.
public enum TraceContext {
    /// The propagation headers of the current context (empty with no instrument, or none current).
    public static func headers(of context: ServiceContext? = ServiceContext.current) -> [String: String] {
        guard let context else { return [:] }
        var headers: [String: String] = [:]
        InstrumentationSystem.instrument.inject(context, into: &headers, using: Headers())
        return headers
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
