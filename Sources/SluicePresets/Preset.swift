import Foundation
public import SluiceCore

/// A named, shipped spec for a common workload.
public struct Preset: Sendable, Equatable {
    public var name: String
    public var description: String
    /// The spec fields the preset supplies; a job's own fields override them.
    public var spec: JSONValue
}
