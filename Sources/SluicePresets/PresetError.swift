import Foundation
import SluiceCore

public struct PresetError: Error, CustomStringConvertible {
    public var file: String
    public var message: String
    public var description: String { "preset \(file): \(message)" }
}
