/// One error recorded on a job: a place in the input (`line`, `column`) or an item index.
public struct JobErrorEntry: Sendable, Equatable, Codable {
    /// The input file, when a job reads more than one.
    public var file: String?
    public var line: Int?
    public var column: Int?
    public var item: Int?
    /// A machine-readable reason where a contract names one (the Batch API's
    /// `duplicate_custom_id`, `invalid_url`, …).
    public var code: String?
    public var message: String

    public init(file: String? = nil, line: Int? = nil, column: Int? = nil, item: Int? = nil, code: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.item = item
        self.code = code
        self.message = message
    }

    /// The contract shape: `{"line", "column", "message"}` or `{"item", "message"}`.
    public var json: JSONValue {
        var object = JSONObject()
        if let file { object["file"] = .string(file) }
        if let item { object["item"] = .int(item) }
        if let line { object["line"] = .int(line) }
        if let column { object["column"] = .int(column) }
        if let code { object["code"] = .string(code) }
        object["message"] = .string(message)
        return .object(object)
    }

    public init?(json: JSONValue) {
        guard let message = json["message"]?.stringValue else { return nil }
        self.init(
            file: json["file"]?.stringValue, line: json["line"]?.intValue, column: json["column"]?.intValue, item: json["item"]?.intValue,
            code: json["code"]?.stringValue, message: message)
    }

    /// `line 3, column 7: message`, for terminals and logs.
    public var description: String {
        var place: [String] = []
        if let file { place.append(file) }
        if let line { place.append(column.map { "line \(line), column \($0)" } ?? "line \(line)") }
        if let item { place.append("item \(item)") }
        return (place + [message]).joined(separator: ": ")
    }
}
