import Foundation
import Logging
import SluiceCore
import SluiceProviders
import SluiceStore
import Synchronization

/// One gate per provider name, created on first use.
actor ProviderGates {
    let providers: ProviderRegistry
    let clock: any SluiceClock
    let sharedPace: (any PaceStore)?
    let logger: Logger
    private var gates: [String: ProviderGate] = [:]

    init(providers: ProviderRegistry, clock: any SluiceClock, sharedPace: (any PaceStore)? = nil, logger: Logger) {
        self.providers = providers
        self.clock = clock
        self.sharedPace = sharedPace
        self.logger = logger
    }

    func gate(for name: String) -> ProviderGate? {
        if let gate = gates[name] { return gate }
        guard let entry = providers[name] else { return nil }
        let shared = sharedPace.flatMap { store in
            SharedPace.isPaced(entry.limits)
                ? SharedPace(store: store, provider: name, limits: entry.limits, safety: RateLimiter.Tuning().safety, logger: logger) : nil
        }
        let gate = ProviderGate(entry: entry, clock: clock, shared: shared)
        gates[name] = gate
        return gate
    }

    /// Every gate's reading, by provider name.
    func readings(worker: String) async -> [ProviderReading] {
        var readings: [ProviderReading] = []
        for (name, gate) in gates.sorted(by: { $0.key < $1.key }) { readings.append(await gate.reading(provider: name, worker: worker)) }
        return readings
    }
}
