import Foundation
import Hummingbird
import NIOCore
import SluiceCore
import Synchronization

/// A local webhook endpoint for tests: records every delivery it is sent and answers each with
/// the next status of a script (then 200), so a test can make the first tries fail.
final class WebhookReceiver: Sendable {
    struct Received: Sendable {
        var headers: [String: String]
        var body: String
    }

    private let state: Mutex<(received: [Received], script: [Int])>
    /// Fires at each delivery received, for tests waiting for a number of them.
    let arrivals = WakeSignal()

    init(failFirst statuses: [Int] = []) {
        state = Mutex(([], statuses))
    }

    var received: [Received] { state.withLock { $0.received } }

    /// Runs a receiver on a free loopback port for the duration of `body`, given its URL. One
    /// that `hangs` records each delivery and never answers.
    static func with<T: Sendable>(
        failFirst statuses: [Int] = [], hangs: Bool = false, _ body: @Sendable (WebhookReceiver, String) async throws -> T
    ) async throws -> T {
        let receiver = WebhookReceiver(failFirst: statuses)
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let buffer = try await request.body.collect(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let status = receiver.state.withLock { state in
                state.received.append(Received(headers: headers, body: String(buffer: buffer)))
                return state.script.isEmpty ? 200 : state.script.removeFirst()
            }
            receiver.arrivals.wakeAll()
            if hangs { try await Task.sleep(for: .seconds(3600)) }
            return Response(status: .init(code: status))
        }
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { portContinuation.yield($0.localAddress?.port ?? 0) })
        let server = Task { try await app.runService() }
        defer { server.cancel() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        return try await body(receiver, "http://127.0.0.1:\(port)/hook")
    }
}
