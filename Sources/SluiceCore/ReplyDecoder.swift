/// Turns a model's reply text into validated outputs — or says exactly why it cannot.
///
/// This is the one gate between a model and `succeeded`: nothing that fails here is ever
/// stored as a result, and no default value stands in for a missing one.
public struct ReplyDecoder: Sendable {
    public let schema: OutputSchema?

    public init(schema: OutputSchema?) {
        self.schema = schema
    }

    /// Why a reply was refused; fed back to the model on the next attempt.
    public struct Rejection: Error, Sendable, Equatable {
        public var message: String

        public init(message: String) {
            self.message = message
        }
    }

    /// The output of a one-item call: free text without a schema, validated JSON with one.
    public func decode(_ text: String) -> Result<JSONValue, Rejection> {
        guard let schema else { return .success(.string(text)) }
        let value: JSONValue
        switch Self.parseJSON(text) {
        case .success(let parsed): value = parsed
        case .failure(let rejection): return .failure(rejection)
        }
        return validate(value, schema: schema)
    }

    /// One row's answer inside a packed reply: validated like a one-item reply, except that
    /// without a schema a string answer is taken as it is and any other value as its JSON.
    public func decodeEntry(_ value: JSONValue) -> Result<JSONValue, Rejection> {
        guard let schema else { return .success(value.stringValue.map(JSONValue.string) ?? .string(JSONWriter.string(value))) }
        return validate(value, schema: schema)
    }

    func validate(_ value: JSONValue, schema: OutputSchema) -> Result<JSONValue, Rejection> {
        let errors = schema.validate(value)
        return errors.isEmpty ? .success(value) : .failure(Rejection(message: Self.summary(errors)))
    }

    /// Parses JSON from a reply, tolerating only a surrounding Markdown code fence.
    static func parseJSON(_ text: String) -> Result<JSONValue, Rejection> {
        var body = Substring(text).trimmingWhitespace()
        if body.hasPrefix("```") {
            body = body.drop(while: { $0 != "\n" })
            if body.hasSuffix("```") { body = body.dropLast(3) }
            body = body.trimmingWhitespace()
        }
        do {
            return .success(try JSONParser.parse(Array(body.utf8)))
        } catch {
            return .failure(
                Rejection(message: "the reply is not valid JSON (\(error.message) at column \(error.column) of line \(error.line))"))
        }
    }

    static func summary(_ errors: [String]) -> String {
        let shown = errors.prefix(5).joined(separator: "; ")
        return errors.count > 5 ? shown + "; and \(errors.count - 5) more" : shown
    }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        let isSpace: (Character) -> Bool = { $0.isWhitespace }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return self[first...last]
    }
}
