import NIOCore
import NIOHTTPTypes
import Synchronization

/// One connection's place in ``ConnectionCounts``, and the pace its request bodies must keep:
/// after a grace period a body must have arrived at ``minimumBytesPerSecond`` on average, or
/// the connection is closed — the idle timeout alone let a body trickled a byte a minute hold
/// its connection forever.
final class ConnectionGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    let counts: ConnectionCounts
    let grace: TimeAmount
    let minimumBytesPerSecond: Int
    private var address: String?
    private var bodyStarted: NIODeadline?
    private var bodyBytes = 0
    private var check: Scheduled<Void>?

    init(counts: ConnectionCounts, grace: TimeAmount = .seconds(30), minimumBytesPerSecond: Int = 1024) {
        self.counts = counts
        self.grace = grace
        self.minimumBytesPerSecond = minimumBytesPerSecond
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        guard counts.admit(address) else {
            context.close(promise: nil)
            return
        }
        self.address = address
        scheduleCheck(context: context)
    }

    /// Every 5 s: closes the connection if the body in progress is past its grace period and
    /// behind the pace.
    func scheduleCheck(context: ChannelHandlerContext) {
        check = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(5)) { [self] in
            if let started = bodyStarted {
                let elapsed = NIODeadline.now() - started
                if elapsed > grace, Double(bodyBytes) < Double(minimumBytesPerSecond) * Double(elapsed.nanoseconds) / 1e9 {
                    context.close(promise: nil)
                    return
                }
            }
            scheduleCheck(context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        check?.cancel()
        check = nil
        if let address {
            counts.release(address)
            self.address = nil
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            bodyStarted = .now()
            bodyBytes = 0
        case .body(let buffer): bodyBytes += buffer.readableBytes
        case .end: bodyStarted = nil
        }
        context.fireChannelRead(data)
    }
}
