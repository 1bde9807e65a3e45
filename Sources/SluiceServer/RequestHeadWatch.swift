import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import SluiceCore

/// The raw-bytes side of ``RequestHeadGuard``: starts the head's clock on the first byte of a
/// request, and writes a refusal straight to the socket before closing.
final class RequestHeadWatch: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let headTimeout: TimeAmount
    private var context: ChannelHandlerContext?
    /// Between a response's end and the next head: bytes arriving now start a head.
    private var awaitingHead = true
    private var deadline: Scheduled<Void>?
    private var refused = false

    init(headTimeout: TimeAmount) {
        self.headTimeout = headTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // After a refusal the rest of what the client sends is read and dropped (see `refuse`).
        guard !refused else { return }
        if awaitingHead, deadline == nil {
            let seconds = Double(headTimeout.nanoseconds) / 1e9
            deadline = context.eventLoop.assumeIsolated().scheduleTask(in: headTimeout) { [self] in
                refuse(
                    APIError(
                        .requestTimeout, code: "request_timeout",
                        "the request's headers did not arrive within \(seconds.formatted(.number.precision(.fractionLength(0...1)))) s"))
            }
        }
        context.fireChannelRead(data)
    }

    func headArrived() {
        awaitingHead = false
        deadline?.cancel()
        deadline = nil
    }

    func responseEnded() {
        awaitingHead = true
    }

    /// Writes `error` as a whole HTTP/1.1 response and closes the connection — first only our
    /// side, reading and dropping what the client still sends for up to two seconds: closing
    /// with its bytes unread would reset the connection and lose the answer on the way.
    func refuse(_ error: APIError) {
        guard let context, !refused else { return }
        refused = true
        deadline?.cancel()
        let body = JSONWriter.bytes(error.body)
        var bytes = context.channel.allocator.buffer(capacity: body.count + 160)
        bytes.writeString(
            "HTTP/1.1 \(error.status.code) \(error.status.reasonPhrase)\r\nContent-Type: application/json\r\n"
                + "Content-Length: \(body.count)\r\nConnection: close\r\n\r\n")
        bytes.writeBytes(body)
        context.writeAndFlush(wrapOutboundOut(bytes)).assumeIsolated().whenComplete { _ in
            context.close(mode: .output, promise: nil)
            context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(2)) { context.close(promise: nil) }
        }
    }
}
