public import Foundation
public import SluiceCore

/// Items leased together from one job.
public struct ClaimedBatch: Sendable {
    public var job: Job
    public var items: [Item]
    public var leaseExpiresAt: Date
}
