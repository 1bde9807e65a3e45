public import SluiceCore

/// One line of a batch's input: an OpenAI Batch API line (``OpenAIBatchLine``) or an Anthropic
/// Message Batches request (``MessageBatchRequest``).
///
/// Checks a parsed line the way the provider's own validation does (so a bad file fails
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
        let envelope: OpenAIBatchLine
        do { envelope = try WireDecoder.decode(OpenAIBatchLine.self, from: .object(line)) } catch {
            let code = OpenAIBatchLine.code(for: error.path.first)
            guard code != "invalid_url" else { return .failure(wrongURL(endpoints)) }
            return .failure(Problem(code: code, param: error.dottedField, message: error.message))
        }
        guard let endpoint = BatchEndpoint(rawValue: envelope.url), endpoints.contains(endpoint) else {
            return .failure(wrongURL(endpoints))
        }
        do {
            _ = try endpoint.modelRequest(body: envelope.body)
        } catch {
            return .failure(Problem(code: "invalid_request", param: "body.\(error.field)", message: error.message))
        }
        return .success(envelope.customID)
    }

    static func wrongURL(_ endpoints: [BatchEndpoint]) -> Problem {
        let allowed = endpoints.map(\.rawValue).joined(separator: " or ")
        return Problem(code: "invalid_url", param: "url", message: "url must be \(allowed), the batch's endpoint")
    }

    /// Anthropic's rules: a `custom_id` of 1 to 64 letters, digits, `-` and `_`, `params` that
    /// are a valid Messages request, and nothing else.
    static func checkMessages(_ line: JSONObject) -> Result<String, Problem> {
        let request: MessageBatchRequest
        do { request = try WireDecoder.decode(MessageBatchRequest.self, from: .object(line)) } catch {
            return .failure(Problem(code: "invalid_request_error", param: error.dottedField, message: error.message))
        }
        do {
            _ = try MessagesRequest.modelRequest(params: request.params)
        } catch {
            return .failure(Problem(code: "invalid_request_error", param: "params.\(error.field)", message: error.message))
        }
        return .success(request.customID)
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
