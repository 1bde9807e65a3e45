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
    }

    /// The output of a one-item call: free text without a schema, validated JSON with one.
    public func decode(_ text: String) -> Result<JSONValue, Rejection> {
        guard let schema else { return .success(.string(text)) }
        let value: JSONValue
        switch Self.parseJSON(text) {
        case .success(let parsed): value = parsed
        case .failure(let rejection): return .failure(rejection)
        }
        let errors = schema.validate(value)
        return errors.isEmpty ? .success(value) : .failure(Rejection(message: Self.summary(errors)))
    }

    /// The outputs of a packed call, one per item: a malformed wrapper refuses them all, a bad
    /// entry refuses only its own item.
    public func decodePacked(_ text: String, count: Int) -> Result<[Result<JSONValue, Rejection>], Rejection> {
        let wrapper: JSONValue
        switch Self.parseJSON(text) {
        case .success(let parsed): wrapper = parsed
        case .failure(let rejection): return .failure(rejection)
        }
        guard case .array(let results)? = wrapper["results"] else {
            return .failure(Rejection(message: "the reply must be an object with a \"results\" array"))
        }
        guard results.count == count else {
            return .failure(Rejection(message: "expected \(count) results, got \(results.count)"))
        }
        return .success(
            results.map { entry in
                guard let schema else {
                    return .success(entry.stringValue.map(JSONValue.string) ?? entry)
                }
                let errors = schema.validate(entry)
                return errors.isEmpty ? .success(entry) : .failure(Rejection(message: Self.summary(errors)))
            })
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
