import Foundation
import SluiceCore

/// How many items one claim may take for a job, by the provider the job calls: what the worker
/// can start within about a second there. A provider not named is capped only by the claim's
/// limit; a job whose items are routed by model (or stored before jobs named their provider)
/// takes at most ``routed``.
public struct ClaimAllowance: Sendable, Equatable {
    public var byProvider: [String: Int]
    public var routed: Int?

    public init(byProvider: [String: Int] = [:], routed: Int? = nil) {
        self.byProvider = byProvider
        self.routed = routed
    }

    /// The cap for a job of `provider` (`nil`: routed), or `nil` for none.
    public func cap(provider: String?) -> Int? {
        guard let provider else { return routed }
        return byProvider[provider]
    }

    /// Whether any job at all could be claimed under it.
    public var allowsAny: Bool {
        byProvider.isEmpty || byProvider.values.contains { $0 > 0 } || (routed ?? 1) > 0
    }
}
