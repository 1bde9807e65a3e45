import Foundation

/// A file that a job's items are read from.
public struct JobSource: Sendable, Equatable {
    /// Where the bytes are: the user's file for `sluice run`, the stored upload for the server.
    public var path: String
    /// The name the user knows the file by, used in error messages.
    public var displayName: String
    public var format: InputFormat

    public init(path: String, displayName: String, format: InputFormat) {
        self.path = path
        self.displayName = displayName
        self.format = format
    }

    public var json: JSONValue {
        ["path": .string(path), "name": .string(displayName), "format": .string(format.rawValue)]
    }

    public init?(json: JSONValue) {
        guard let path = json["path"]?.stringValue, let name = json["name"]?.stringValue,
            let format = json["format"]?.stringValue.flatMap(InputFormat.init(rawValue:))
        else { return nil }
        self.init(path: path, displayName: name, format: format)
    }
}
