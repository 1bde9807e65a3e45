import Foundation
import SluiceCore

public struct ServerConfigurationError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
