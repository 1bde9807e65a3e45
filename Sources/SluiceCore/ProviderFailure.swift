/// Why a model call did not produce a reply, classified so the engine knows what to do next.
public enum ProviderFailure: Error, Sendable, Equatable {
    /// Throttled (429); the signal says when to try again and what the limits are.
    case rateLimited(String, signal: RateLimitSignal)
    /// Might work next time: timeouts, dropped connections, 5xx, 408, 409.
    case transient(String)
    /// The request itself is wrong for this provider (400, 404, 422): retrying cannot help.
    case rejected(String)
    /// The credentials were refused: every other item would fail the same way.
    case unauthorized(String)
    /// The provider had no capacity for the call's tier (flex's "resource unavailable"): not the
    /// key's limit and not a fault — the call is simply made again later, unbilled.
    case unavailable(String)

    /// Classifies an HTTP error response: 429 throttled; 408, 409 and 5xx worth retrying;
    /// 401 and 403 refused credentials; any other 4xx a request that cannot succeed.
    ///
    /// What the failure says reaches the job's owner, and the key behind the call is the
    /// server's, shared by every user: so it says the class, not the provider's text — a 401's
    /// body shows part of the key, a 429's the organisation — except for a rejected request,
    /// whose text says what to fix in it, with anything that looks like an account's
    /// identifier cut out. The whole text is for the server's log.
    ///
    /// A 429 whose error code is `resource_unavailable` (OpenAI's flex tier out of capacity) or
    /// a 498 (Groq's `capacity_exceeded`) is ``unavailable(_:)``, not throttling.
    public static func classify(status: Int, message: String, code: String? = nil, signal: RateLimitSignal) -> ProviderFailure {
        switch status {
        case 498,
            429 where code == "resource_unavailable":
            .unavailable("HTTP \(status): the provider had no capacity for the call's tier; it goes again later")
        case 429: .rateLimited("HTTP 429: the provider's rate limit was reached", signal: signal)
        case 401, 403: .unauthorized("HTTP \(status): the provider refused the server's credentials")
        case 408: .transient("HTTP 408: the provider timed out")
        case 409, 500...599: .transient("HTTP \(status): the provider failed")
        default: .rejected("HTTP \(status): \(scrubbed(message))")
        }
    }

    /// `text` without words that name an account, a project or a key (`org-…`, `proj_…`,
    /// `sk-…`, `key_…`, `user-…`), at most 300 characters.
    public static func scrubbed(_ text: String) -> String {
        let markers = ["org-", "org_", "proj_", "proj-", "sk-", "sk_", "key_", "key-", "user-", "user_", "acct_"]
        return text.prefix(300).split(separator: " ", omittingEmptySubsequences: false).map { word in
            let lower = word.lowercased()
            return markers.contains { lower.contains($0) } ? "[redacted]" : String(word)
        }.joined(separator: " ")
    }

    public var message: String {
        switch self {
        case .rateLimited(let message, _), .transient(let message), .rejected(let message), .unauthorized(let message),
            .unavailable(let message):
            message
        }
    }
}

extension ProviderFailure {
    /// Whether another provider might answer what this one could not: it failed (5xx, a
    /// timeout), or the prompt is too long for its model's context. Never a refused key, a
    /// throttled call (the limiter's business) or a request wrong for any provider.
    public var mayBeAnothersToAnswer: Bool {
        switch self {
        case .transient: true
        case .rejected(let message): Self.contextTooLong(message)
        case .rateLimited, .unauthorized, .unavailable: false
        }
    }

    /// Whether a refusal says the prompt is longer than the model's context, in the words
    /// OpenAI-compatible servers and Anthropic use.
    static func contextTooLong(_ message: String) -> Bool {
        let text = message.lowercased()
        return ["context_length_exceeded", "maximum context length", "context window", "prompt is too long", "too many tokens"].contains {
            text.contains($0)
        }
    }
}
