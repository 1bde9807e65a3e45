import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import SluiceCore
import FoundationInternationalization

/// What a connection's client cannot talk its way past, answered in the API's JSON before the
/// connection is closed: a request head that has not arrived whole `headTimeout` after its first
/// byte (`408`, so a client trickling bytes cannot hold a connection), and one over the decoder's
/// bounds on header size and count (`431`) or not HTTP at all (`400`). A connection idle between
/// requests is closed silently by Hummingbird's idle timeout.
///
/// It sees the request's parts; its partner ``RequestHeadWatch`` sits in front of the HTTP codec,
/// sees the raw bytes (so it knows when a head *starts*) and writes the refusals as raw bytes —
/// the codec is in no state to when a head is broken or half-read.
final class RequestHeadGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let watch: RequestHeadWatch

    init(headTimeout: TimeAmount) {
        watch = RequestHeadWatch(headTimeout: headTimeout)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // Before the response encoder, so its raw writes are the last thing before the socket (or
        // TLS). Without it the limits would silently not hold: a pipeline of another shape is a
        // programming error, and every test that opens a connection would stop on it.
        let pipeline = context.pipeline.syncOperations
        do {
            try pipeline.addHandler(watch, position: .before(try pipeline.handler(type: HTTPResponseEncoder.self)))
        } catch {
            fatalError("RequestHeadGuard needs NIO's HTTP/1 response encoder in the pipeline: \(error)")
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) { watch.headArrived() }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { watch.responseEnded() }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let error = error as? HTTPParserError else { return context.fireErrorCaught(error) }
        if case .headerOverflow = error {
            watch.refuse(
                APIError(
                    .init(code: 431, reasonPhrase: "Request Header Fields Too Large"), code: "headers_too_large",
                    "the request's headers are over the limit of \(ServerConfiguration.maxHeaderFieldCount) fields, "
                        + "\(ServerConfiguration.maxHeaderFieldBytes >> 10) KiB a field or \(ServerConfiguration.maxHeaderBytes >> 10) KiB in all"
                ))
        } else {
            watch.refuse(APIError.badRequest("the request is not valid HTTP/1.1 (\(error))"))
        }
    }
}

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
