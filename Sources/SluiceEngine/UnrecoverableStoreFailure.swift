import Foundation
import Logging
import ServiceLifecycle
import SluiceCore
import SluiceStore

/// The database cannot serve this process and will not by waiting; the process stops.
public struct UnrecoverableStoreFailure: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { "the database cannot be used: \(reason); stopping" }
}
