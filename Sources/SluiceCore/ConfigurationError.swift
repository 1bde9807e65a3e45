import Foundation

/// A configuration that cannot be used, with the path of the offending setting.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }

    static func refuseUnknown(_ object: JSONObject, allowed: Set<String>, at path: String) throws(ConfigurationError) {
        for key in object.keys where !allowed.contains(key) {
            throw ConfigurationError(path: path.isEmpty ? key : "\(path).\(key)", message: "unknown setting")
        }
    }
}
