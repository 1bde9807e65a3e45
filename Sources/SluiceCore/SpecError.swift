/// A job spec that cannot run, with the spec field at fault. Reported as a 4xx by the server
/// and as a usage error by the CLI.
public struct SpecError: Error, Sendable, Equatable, CustomStringConvertible {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "spec.\(field): \(message)" }
}
