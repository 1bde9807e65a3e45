import Foundation
import NIOCore
import NIOFileSystem

/// A storage failure, said without credentials or signatures.
public struct StorageError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
