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
    /// Names the prompt prefix this call shares with its job's other calls (the system prompt,
    /// the schema, the template's head), so a provider routes them to one prompt cache.
    public var promptCacheKey: String?
    /// The call belongs to a job expected to run longer than a short prompt cache lasts
    /// (5 minutes), so a cache marker asks for the long one (an hour).
    public var longCache = false
    /// Ask for the provider's flex tier (`service_tier: "flex"`), where it sells one.
    public var flexTier = false
    /// Functions the model may call, whether it must, and whether it may call several at once.
    public var tools: [ToolDefinition] = []
    public var toolChoice: ToolChoice?
    public var parallelToolCalls: Bool?
    /// The answer is the arguments of the one tool call the reply makes, not its text: a native
    /// job's tools (a batch line's tool calls are passed back as the provider made them).
    public var answersWithTool = false

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
    /// The prompt's size in tokens — about four characters a token, each image by the provider's
    /// `rule` (``ImageTokens``): what a call reserves against a tokens-per-minute limit before
    /// its reply (see ``RateLimiter``).
    public func promptTokens(imagesBy rule: ImageTokens.Rule) -> Double {
        var characters = (system?.utf8.count ?? 0) + messages.reduce(0) { $0 + $1.content.utf8.count }
        var images = 0
        for message in messages where !message.isText {
            for part in message.parts {
                switch part {
                case .text: break
                case .image(let image): images += image.tokens(rule)
                case .toolCall(let call): characters += call.name.utf8.count + call.arguments.utf8.count
                case .toolResult(_, let text, _): characters += text.utf8.count
                case .document(let document):
                    switch document.source {
                    // A PDF's pages cost more than their text; its base64 is a generous stand-in.
                    case .pdf(let base64): characters += base64.utf8.count
                    case .url: images += ImageTokens.most(rule)
                    case .text(let text): characters += text.utf8.count
                    }
                }
            }
        }
        // The tools' definitions are part of the prompt.
        for tool in tools {
            characters += tool.name.utf8.count + (tool.description?.utf8.count ?? 0) + JSONWriter.string(tool.parameters).utf8.count
        }
        return Double(characters) / 4 + Double(images)
    }

    /// The same call offering no tools.
    public var withoutTools: ModelRequest {
        var request = self
        (request.tools, request.toolChoice, request.parallelToolCalls, request.answersWithTool) = ([], nil, nil, false)
        return request
    }

    /// Sets the most the reply may use to `tokens`, under the name the params already use
    /// (`max_tokens` or `max_completion_tokens`), else `max_completion_tokens` — the one
    /// reasoning models take (Anthropic's request reads it as its `max_tokens`).
    public mutating func limitReply(to tokens: Int) {
        let key = params["max_completion_tokens"] == nil && params["max_tokens"] != nil ? "max_tokens" : "max_completion_tokens"
        params[key] = .int(tokens)
    }

    /// The most the reply may use (`max_tokens`), when the request says.
    public var maxReplyTokens: Double? {
        // An embedding is no reply: the call costs its input alone.
        if case .embeddings = operation { return 0 }
        return (params["max_tokens"]?.intValue ?? params["max_completion_tokens"]?.intValue).map(Double.init)
    }
}
