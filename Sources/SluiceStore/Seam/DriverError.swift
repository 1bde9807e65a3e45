import Foundation
import SluiceCore

/// A database driver's error, carried inside a ``StoreError`` for logging. Its description is
/// the driver's full text and is for the operator's log, never for a response.
public struct DriverError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The database's error code where it has one (a SQLSTATE, or SQLite's result code).
    public var code: String
    public var description: String

    public init(code: String, description: String) {
        self.code = code
        self.description = description
    }
}
