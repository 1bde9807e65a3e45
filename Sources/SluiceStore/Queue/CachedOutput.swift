import Foundation
public import SluiceCore

/// An output kept in the result cache, and the model that produced it.
public struct CachedOutput: Sendable, Equatable {
    public var output: JSONValue
    public var model: String?

    public init(output: JSONValue, model: String?) {
        self.output = output
        self.model = model
    }
}
