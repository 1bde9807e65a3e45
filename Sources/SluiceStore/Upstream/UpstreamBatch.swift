public import Foundation
public import SluiceCore

/// One batch sent to a provider's batch API for a job's items, as the database keeps it.
public struct UpstreamBatch: Sendable, Equatable {
    public enum Status: String, Sendable {
        /// Its items are leased to it; the provider may or may not have it yet.
        case submitting
        /// The provider has it; it is polled until it ends.
        case running
        /// The provider was asked to stop it; it is polled until it ends.
        case cancelling
    }

    public var id: String
    public var jobID: String
    public var provider: String
    public var upstreamID: String?
    public var status: Status
    /// The item ids each call of the batch answers, by the call's custom id.
    public var units: [String: [Int64]]
    public var createdAt: Date
    public var polls: Int
    /// The job's status now: a job being cancelled wants its batch stopped.
    public var jobStatus: JobStatus
    /// The job's items no longer go through the batch API (an auto job's deadline nears).
    public var jobWentLive: Bool

    /// The lease owner of the items it holds.
    public var itemOwner: String { Self.itemOwner(id) }

    public static func itemOwner(_ id: String) -> String { "upstream:" + id }

    public init(
        id: String, jobID: String, provider: String, upstreamID: String?, status: Status, units: [String: [Int64]], createdAt: Date,
        polls: Int, jobStatus: JobStatus, jobWentLive: Bool
    ) {
        self.id = id
        self.jobID = jobID
        self.provider = provider
        self.upstreamID = upstreamID
        self.status = status
        self.units = units
        self.createdAt = createdAt
        self.polls = polls
        self.jobStatus = jobStatus
        self.jobWentLive = jobWentLive
    }
}
