import Foundation
public import SluiceCore
public import SluiceProviders
import Synchronization

/// A model provider stand-in whose every reply a test scripts, recording each request it got.
/// `respond` receives the request and how many calls (for any item) came before it.
public final class ScriptedProvider: ModelProvider, Sendable {
    public let name: String
    let respond: @Sendable (ModelRequest, Int) async throws(ProviderFailure) -> ModelReply
    let log = Mutex<[ModelRequest]>([])

    public init(name: String = "scripted", respond: @escaping @Sendable (ModelRequest, Int) async throws(ProviderFailure) -> String) {
        self.name = name
        self.respond = { request, number throws(ProviderFailure) in
            ModelReply(
                text: try await respond(request, number), usage: TokenUsage(promptTokens: 10, completionTokens: 5), model: "scripted-1")
        }
    }

    init(name: String, wholeReplies: @escaping @Sendable (ModelRequest, Int) async throws(ProviderFailure) -> ModelReply) {
        self.name = name
        self.respond = wholeReplies
    }

    /// A provider whose replies are scripted whole (tool calls, finish reasons).
    public static func replying(
        name: String = "scripted", _ replies: @escaping @Sendable (ModelRequest, Int) async throws(ProviderFailure) -> ModelReply
    ) -> ScriptedProvider {
        ScriptedProvider(name: name, wholeReplies: replies)
    }

    public var requests: [ModelRequest] { log.withLock { $0 } }

    /// A provider that answers "fine", except that it refuses the first request whose last
    /// message is `content` ("not today"): an item or line that fails once and not again.
    public static func refusingOnce(name: String, content: String) -> ScriptedProvider {
        let refusals = Mutex(0)
        return ScriptedProvider(name: name) { request, _ throws(ProviderFailure) in
            let refuse =
                request.messages.last?.content == content
                && refusals.withLock { count in
                    count += 1
                    return count == 1
                }
            if refuse { throw .rejected("not today") }
            return "fine"
        }
    }

    public func complete(_ request: ModelRequest) async throws(ProviderFailure) -> ModelReply {
        let number = log.withLock { log in
            log.append(request)
            return log.count - 1
        }
        return try await respond(request, number)
    }
}

/// A provider whose calls block until the test opens the gate, so a test can act (cancel,
/// pause, drain) while calls are known to be in flight — no timing involved.
public final class GatedProvider: ModelProvider, Sendable {
    public let name = "gated"
    struct State {
        var started = 0
        var prompts: [String] = []
        var startWatchers: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    let state = Mutex(State())
    let gate = Latch()

    public init() {}

    public var started: Int { state.withLock { $0.started } }
    /// The last message of each call, in the order the calls started.
    public var prompts: [String] { state.withLock { $0.prompts } }

    /// Returns once at least `count` calls have started.
    public func waitForStarts(_ count: Int) async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state in
                if state.started >= count { return true }
                state.startWatchers.append((count, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// Lets every blocked and future call finish.
    public func open() {
        gate.open()
    }

    public func complete(_ request: ModelRequest) async throws(ProviderFailure) -> ModelReply {
        let watchers = state.withLock { state in
            state.started += 1
            state.prompts.append(request.messages.last?.content ?? "")
            let due = state.startWatchers.filter { $0.count <= state.started }
            state.startWatchers.removeAll { $0.count <= state.started }
            return due
        }
        for watcher in watchers { watcher.continuation.resume() }
        await gate.wait()
        return ModelReply(text: "done", usage: TokenUsage(), model: "gated")
    }
}

/// A one-way gate for tests: tasks wait until the test opens it. No timing involved.
public final class Latch: Sendable {
    struct State {
        var open = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    let state = Mutex(State())

    public init() {}

    public func wait() async {
        await withCheckedContinuation { continuation in
            let isOpen = state.withLock { state in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if isOpen { continuation.resume() }
        }
    }

    public func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
