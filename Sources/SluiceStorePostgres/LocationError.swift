import Foundation
import NIOSSL
import PostgresNIO
import SluiceCore

/// A `postgres://` URL that cannot be used, and why.
public struct LocationError: Error, CustomStringConvertible, Equatable {
    public var description: String
    init(_ description: String) { self.description = description }
}
