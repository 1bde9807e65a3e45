import Foundation
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import SluiceCore

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
