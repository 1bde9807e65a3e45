public import InMemoryTracing
import Instrumentation

/// The test process's tracer: an in-memory one, bootstrapped once for every suite (the
/// instrumentation system takes one per process). Tests find their own spans by the job id
/// they carry, as other tests' spans land here too.
public enum TestTracer {
    public static let shared: InMemoryTracer = {
        let tracer = InMemoryTracer()
        InstrumentationSystem.bootstrap(tracer)
        return tracer
    }()
}
