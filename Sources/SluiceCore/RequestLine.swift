/// One line of a batch's input: an OpenAI Batch API line `{"custom_id", "method", "url", "body"}`
/// or an Anthropic Message Batches request `{"custom_id", "params"}`.
///
/// Pure: checks a parsed line the way the provider's own validation does (so a bad file fails
/// before any model call, with the line and the provider's error code), and turns a valid
/// line into the provider-neutral ``ModelRequest``.
public enum RequestLine {
    /// Why a line was refused: an error code, the offending parameter and words.
    public struct Problem: Error, Sendable, Equatable {
        public var code: String
        public var param: String?
        public var message: String
    }

    /// The line's `custom_id` when it is a valid request for one of `endpoints`: only
    /// ``BatchEndpoint/messages`` means Anthropic's shape, anything else OpenAI's.
    public static func check(_ line: JSONObject, endpoints: [BatchEndpoint]) -> Result<String, Problem> {
        if endpoints == [.messages] { return checkMessages(line) }
        guard let customID = line["custom_id"]?.stringValue, !customID.isEmpty else {
            return .failure(
                Problem(code: "missing_required_parameter", param: "custom_id", message: "custom_id must be a non-empty string"))
        }
        guard line["method"]?.stringValue == "POST" else {
            return .failure(Problem(code: "invalid_method", param: "method", message: "method must be POST"))
        }
        guard let url = line["url"]?.stringValue, let endpoint = BatchEndpoint(rawValue: url), endpoints.contains(endpoint) else {
            let allowed = endpoints.map(\.rawValue).joined(separator: " or ")
            return .failure(
                Problem(code: "invalid_url", param: "url", message: "url must be \(allowed), the batch's endpoint"))
        }
        guard case .object(let body)? = line["body"] else {
            return .failure(Problem(code: "missing_required_parameter", param: "body", message: "body must be an object"))
        }
        do {
            _ = try endpoint.modelRequest(body: body)
        } catch {
            return .failure(Problem(code: "invalid_request", param: "body.\(error.field)", message: error.message))
        }
        return .success(customID)
    }

    /// Anthropic's rules: a `custom_id` of 1 to 64 letters, digits, `-` and `_`, `params` that
    /// are a valid Messages request, and nothing else.
    static func checkMessages(_ line: JSONObject) -> Result<String, Problem> {
        if let unknown = line.keys.first(where: { $0 != "custom_id" && $0 != "params" }) {
            return .failure(Problem(code: "invalid_request_error", param: unknown, message: "Extra inputs are not permitted"))
        }
        guard let customID = line["custom_id"]?.stringValue, (1...64).contains(customID.count),
            customID.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        else {
            return .failure(
                Problem(
                    code: "invalid_request_error", param: "custom_id",
                    message: "custom_id must be 1 to 64 characters of letters, digits, '-' and '_'"))
        }
        guard case .object(let params)? = line["params"] else {
            return .failure(Problem(code: "invalid_request_error", param: "params", message: "params must be an object"))
        }
        do {
            _ = try MessagesBody.modelRequest(params)
        } catch {
            return .failure(Problem(code: "invalid_request_error", param: "params.\(error.field)", message: error.message))
        }
        return .success(customID)
    }

    /// The endpoint a stored, checked line calls.
    public static func endpoint(of line: JSONObject) -> BatchEndpoint {
        line["url"]?.stringValue.flatMap(BatchEndpoint.init(rawValue:)) ?? (line["params"] != nil ? .messages : .chatCompletions)
    }

    /// The model call a stored line asks for.
    public static func modelRequest(from line: JSONObject) throws(SpecError) -> ModelRequest {
        let endpoint = endpoint(of: line)
        let key = endpoint == .messages ? "params" : "body"
        guard case .object(let body)? = line[key] else { throw SpecError(field: key, message: "must be an object") }
        return try endpoint.modelRequest(body: body)
    }

    /// The model a stored line names.
    public static func model(of line: JSONObject) -> String? {
        (line["body"] ?? line["params"])?["model"]?.stringValue
    }
}
