import Foundation

/// An item as the ingestor hands it to the store.
public struct NewItem: Sendable, Equatable {
    public var index: Int
    public var groupKey: String?
    public var input: JSONObject
    /// Set for an item that failed before any call — a document that gave no text — with
    /// the reason; it is stored `failed` and counted so.
    public var failure: String?

    public init(index: Int, groupKey: String?, input: JSONObject, failure: String? = nil) {
        self.index = index
        self.groupKey = groupKey
        self.input = input
        self.failure = failure
    }
}
