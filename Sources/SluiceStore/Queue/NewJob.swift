public import Foundation
public import SluiceCore

/// What the creator of a job supplies.
public struct NewJob: Sendable {
    public var id: String
    public var owner: String
    public var name: String
    public var spec: JobSpec
    public var sources: [JobSource]
    public var fingerprint: String?
    public var batch: BatchAttributes?
    public var expiresAt: Date?
    /// The bytes of upload the job keeps (its sources), counted in its owner's storage.
    public var inputBytes: Int
    /// The API key that created the job: its weight and quota apply (`nil`: no key, as with
    /// `sluice run` or a server without auth).
    public var keyID: String?
    /// The trace context it is created in (see ``Job/traceContext``).
    public var traceContext: [String: String]

    public init(
        id: String = Job.makeID(), owner: String, name: String, spec: JobSpec, sources: [JobSource], fingerprint: String? = nil,
        batch: BatchAttributes? = nil, expiresAt: Date? = nil, inputBytes: Int = 0, keyID: String? = nil,
        traceContext: [String: String] = [:]
    ) {
        self.keyID = keyID
        self.traceContext = traceContext
        self.inputBytes = inputBytes
        self.batch = batch
        self.expiresAt = expiresAt
        self.id = id
        self.owner = owner
        self.name = name
        self.spec = spec
        self.sources = sources
        self.fingerprint = fingerprint
    }
}
