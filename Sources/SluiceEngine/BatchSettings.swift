import Foundation
public import SluiceCore

/// How the batch tier uses providers' batch APIs.
public struct BatchSettings: Sendable, Equatable {
    /// The first look at an upstream batch comes this long after it was made; each look after
    /// waits half as long again as the last, up to ``maxPollInterval``. A provider's batch
    /// takes minutes to hours: polling often buys nothing.
    public var pollInterval: Double
    public var maxPollInterval: Double
    /// The most items one upstream batch takes (fewer when the provider's own limits say so):
    /// its results file is read whole.
    public var maxItems: Int
    /// How long the dispatcher rests when there was nothing to submit or look at.
    public var idleInterval: Double
    /// How long before an auto job's deadline its live calls are to be done, beyond the time
    /// they are expected to take (see ``AutoTierSwitch``).
    public var autoMargin: Double

    public init(
        pollInterval: Double = 30, maxPollInterval: Double = 600, maxItems: Int = 5_000, idleInterval: Double = 5,
        autoMargin: Double = AutoTierSwitch.defaultMargin
    ) {
        self.autoMargin = autoMargin
        self.pollInterval = pollInterval
        self.maxPollInterval = maxPollInterval
        self.maxItems = max(1, maxItems)
        self.idleInterval = idleInterval
    }

    /// When to look at a batch next, after `polls` looks.
    func nextPoll(after polls: Int) -> Double {
        min(maxPollInterval, pollInterval * pow(1.5, Double(max(0, polls - 1))))
    }
}
