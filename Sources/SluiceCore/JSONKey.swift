/// A coding key for any member name or array position: what a JSON object's members are
/// keyed by when their names are not known in advance (request parameters passed on as they
/// are, unknown fields a request must be refused for).
public struct JSONKey: CodingKey, Sendable, Hashable {
    public let stringValue: String
    public let intValue: Int?

    public init(stringValue: String) {
        self.stringValue = stringValue
        self.intValue = nil
    }

    public init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}
