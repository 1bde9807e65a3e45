public import SluiceCore

/// One request of an upstream batch: the id its result comes back under, and the call.
public struct BatchCall: Sendable {
    public var customID: String
    public var request: ModelRequest

    public init(customID: String, request: ModelRequest) {
        self.customID = customID
        self.request = request
    }
}

/// Where an upstream batch stands.
public enum UpstreamState: Sendable, Equatable {
    /// Still being worked on (validating, in progress, finalizing, cancelling).
    case running
    /// Done — completed, expired or cancelled: its results (those it has) can be read.
    case ended
    /// Refused whole (its input failed validation): no result will come, for the reason given.
    case failed(String)
}

/// A provider's own asynchronous batch API — OpenAI's `/v1/files` + `/v1/batches`, Anthropic's
/// Message Batches — at half the price of live calls, answered within a day. One protocol, two
/// implementations; the engine's batch dispatcher drives either.
public protocol BatchAPI: Sendable {
    /// The most requests, and bytes of requests, one upstream batch may hold.
    var maxRequests: Int { get }
    var maxBytes: Int { get }

    /// The bytes `call` takes in an upstream batch (to keep one under ``maxBytes``).
    func size(of call: BatchCall) -> Int

    /// Submits `calls` (all of one operation, chat or embeddings) as one upstream batch and
    /// returns its id. `label` is kept with it upstream (the batch's metadata) to say whose it is.
    func submit(_ calls: [BatchCall], label: String) async throws(ProviderFailure) -> String

    /// Where the upstream batch `id` stands.
    func state(of id: String) async throws(ProviderFailure) -> UpstreamState

    /// The results of an ended batch, by custom id: each call's reply, or why it has none. A
    /// call missing from the answer has no result (it expired, or the batch was cancelled
    /// before it ran). `calls` are the requests as submitted, by custom id, for reading their
    /// replies (a strict schema's answer is mapped back to the schema as written).
    func results(of id: String, calls: [String: ModelRequest]) async throws(ProviderFailure) -> [String: Result<
        ModelReply, ProviderFailure
    >]

    /// Asks the provider to stop the batch; what already ran still comes back as results.
    func cancel(_ id: String) async throws(ProviderFailure)
}

/// A provider that has a batch API.
public protocol BatchingProvider: ModelProvider {
    var batchAPI: any BatchAPI { get }
}

extension BatchAPI {
    /// A batch API's reply read as JSON; one that is not is the provider's passing fault.
    func json(_ text: String) throws(ProviderFailure) -> JSONValue {
        do { return try JSONParser.parse(text) } catch { throw .transient("the provider's reply is not valid JSON (\(error.message))") }
    }
}

extension BatchCall {
    /// The endpoint a call of this operation goes to in an OpenAI batch.
    var openAIEndpoint: String {
        if case .embeddings = request.operation { return "/v1/embeddings" }
        return "/v1/chat/completions"
    }
}
