import AsyncHTTPClient
import NIOCore
import NIOPosix
import NIOSSL

#if canImport(Glibc)
    import Glibc
#endif

/// What a failed outgoing connection is told as to users — a class, never the error's text:
/// errno words and addresses would tell a user which internal ports answer (a webhook try) or
/// how the server's network is laid out (a provider call). The text goes to the log.
public enum ConnectionFailure {
    public static func name(of error: any Error) -> String {
        switch error {
        case let error as HTTPClientError
        where [.connectTimeout, .readTimeout, .writeTimeout, .deadlineExceeded].contains(error):
            return "timeout"
        case is NIOSSLError, is BoringSSLError, is NIOSSLExtraError: return "TLS failure (is the certificate trusted?)"
        case let error as IOError where error.errnoCode == ECONNREFUSED: return "connection refused"
        case let error as NIOConnectionError:
            if error.connectionErrors.contains(where: { ($0.error as? IOError)?.errnoCode == ECONNREFUSED }) {
                return "connection refused"
            }
            if error.connectionErrors.contains(where: { $0.error is NIOSSLError || $0.error is BoringSSLError }) {
                return "TLS failure (is the certificate trusted?)"
            }
            if error.connectionErrors.isEmpty, error.dnsAError == nil, error.dnsAAAAError == nil { return "timeout" }
            return "connection failed"
        case ChannelError.connectTimeout: return "timeout"
        case let error as HTTPClientError where error == .remoteConnectionClosed: return "connection closed"
        default: return "connection failed"
        }
    }
}
