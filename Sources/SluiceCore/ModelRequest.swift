/// One message of a chat with a model.
public struct ChatMessage: Sendable, Equatable {
    public enum Role: String, Sendable {
        case system
        case user
        case assistant
    }

    public var role: Role
    public var content: String

    public init(role: Role, content: String) {
        self.role = role
        self.content = content
    }
}

/// One model call, in provider-neutral form; each provider maps it to its own wire shape.
public struct ModelRequest: Sendable, Equatable {
    public var model: String
    public var system: String?
    /// Earlier turns of the item's group, then the prompt (and any correction) last.
    public var messages: [ChatMessage]
    /// Model parameters such as `temperature` and `max_tokens`, passed through.
    public var params: JSONObject
    /// The shape the reply must take; for packed requests, the keyed `{"results": [...]}` wrapper.
    public var outputSchema: OutputSchema?
    /// The input fields of the items this call answers, in order. Remote providers ignore
    /// them (the prompt already carries what the template chose); the built-in provider reads
    /// them because it computes its answer on the machine.
    public var inputs: [JSONObject]
    /// For a packed call, the key of each row in `inputs`, which the reply must answer exactly
    /// (see ``PackedReply``); empty for a one-item call.
    public var rowKeys: [String]
    /// What the call asks for: a reply to the messages, or embeddings of texts.
    public var operation: Operation

    /// A chat call answers with text; an embeddings call with one vector per input text, and
    /// its `messages` carry the same texts only so the call's size is estimated alike.
    public enum Operation: Sendable, Equatable {
        case chat
        case embeddings([String])
    }

    public var isPacked: Bool { !rowKeys.isEmpty }

    public init(
        model: String, system: String?, messages: [ChatMessage], params: JSONObject, outputSchema: OutputSchema?,
        inputs: [JSONObject], rowKeys: [String] = [], operation: Operation = .chat
    ) {
        self.rowKeys = rowKeys
        self.operation = operation
        self.model = model
        self.system = system
        self.messages = messages
        self.params = params
        self.outputSchema = outputSchema
        self.inputs = inputs
    }
}

extension ModelRequest {
    /// The prompt's size in tokens, at about four characters a token: what a call reserves
    /// against a tokens-per-minute limit before its reply (see ``RateLimiter``).
    public var promptTokenEstimate: Double {
        let characters = (system?.utf8.count ?? 0) + messages.reduce(0) { $0 + $1.content.utf8.count }
        return Double(characters) / 4
    }

    /// The most the reply may use (`max_tokens`), when the request says.
    public var maxReplyTokens: Double? {
        // An embedding is no reply: the call costs its input alone.
        if case .embeddings = operation { return 0 }
        return (params["max_tokens"]?.intValue ?? params["max_completion_tokens"]?.intValue).map(Double.init)
    }
}

/// A provider's answer: the text of the reply (or the embeddings asked for) and what it cost.
public struct ModelReply: Sendable, Equatable {
    public var text: String
    /// One vector per input text, in order, for an embeddings call; `nil` for a chat call.
    public var embeddings: [[Double]]?
    public var usage: TokenUsage
    /// The model that answered, as the provider named it.
    public var model: String
    /// What the response headers said about the provider's limits.
    public var signal: RateLimitSignal?

    public init(text: String, usage: TokenUsage, model: String, signal: RateLimitSignal? = nil, embeddings: [[Double]]? = nil) {
        self.text = text
        self.embeddings = embeddings
        self.usage = usage
        self.model = model
        self.signal = signal
    }
}

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

    /// Classifies an HTTP error response: 429 throttled; 408, 409 and 5xx worth retrying;
    /// 401 and 403 refused credentials; any other 4xx a request that cannot succeed.
    ///
    /// What the failure says reaches the job's owner, and the key behind the call is the
    /// server's, shared by every user: so it says the class, not the provider's text — a 401's
    /// body shows part of the key, a 429's the organisation — except for a rejected request,
    /// whose text says what to fix in it, with anything that looks like an account's
    /// identifier cut out. The whole text is for the server's log.
    public static func classify(status: Int, message: String, signal: RateLimitSignal) -> ProviderFailure {
        switch status {
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
        case .rateLimited(let message, _), .transient(let message), .rejected(let message), .unauthorized(let message): message
        }
    }
}
