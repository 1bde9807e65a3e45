import Foundation
public import SluiceCore

/// Which jobs a list asks for.
public struct JobQuery: Sendable {
    /// Native jobs, OpenAI batches, or Anthropic message batches (`msgbatch_…`).
    public enum Kind: Sendable { case any, native, batch, messageBatch }
    public var owner: String?
    public var status: JobStatus?
    public var kind: Kind
    /// The id of the last job of the previous page.
    public var after: String?
    /// The id of the first job of the next page: the jobs just newer than it, newest first.
    public var before: String?
    public var limit: Int

    public init(owner: String?, status: JobStatus? = nil, kind: Kind = .any, after: String? = nil, before: String? = nil, limit: Int) {
        self.before = before
        self.owner = owner
        self.status = status
        self.kind = kind
        self.after = after
        self.limit = limit
    }
}
