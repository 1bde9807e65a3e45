import Foundation
import SluiceCore

/// How `sluice serve` listens, authenticates and limits.
public struct ServerConfiguration: Sendable {
    public var host: String
    /// 0 picks a free port (tests); the bound port is reported when the server is up.
    public var port: Int
    public var auth: AuthMode
    /// Where uploads and Batch API files are kept; one folder per job or file.
    public var uploadDirectory: String
    /// The largest request body accepted; larger ones get `413` before their body is read.
    public var maxUploadBytes: Int
    /// Requests a minute per API key (or for the local user); `nil` turns the limit off.
    public var requestsPerMinute: Double?
    /// Requests a key may make at once before the per-minute pace applies.
    public var requestBurst: Int
    /// Origins allowed to call the API from a browser; empty means no CORS headers at all.
    public var corsOrigins: [String]
    /// How often a Server-Sent Events stream looks for progress.
    public var eventInterval: Double
    /// How long a web page sign-in lasts.
    public var sessionSeconds: Double
    /// Marks the web page's cookies `Secure` (set it when TLS ends before Sluice, at a proxy that
    /// does not send `X-Forwarded-Proto: https`, which sets them so on its own).
    public var secureCookies: Bool
    /// How long a connection may sit idle between requests, or stall mid-body, before it is closed.
    public var idleTimeoutSeconds: Double
    /// How long a request's head may take to arrive whole, from its first byte (`408` after).
    public var headTimeoutSeconds: Double
    /// Uploads one key (or the local user) may have streaming in at once (`429` beyond).
    public var maxUploadsPerKey: Int
    /// Serve HTTPS with this certificate chain and key (PEM files); plain HTTP without.
    public var tls: TLSFiles?
    /// The most one part of a chunked upload (`/v1/uploads`) may hold: OpenAI's 64 MiB, the
    /// size the SDK sends (tests set less).
    public var maxUploadPartBytes = 64 << 20
    /// Names besides loopback ones that a request's `Host` may carry while auth is off (a
    /// name in `/etc/hosts` for this machine, say). Any other name is refused: it is how a web
    /// page re-points its own domain at 127.0.0.1 (DNS rebinding) to drive a keyless server.
    public var allowedHosts: [String] = []
    /// Connections open at once from one client address, and in all (closed at once beyond).
    public var maxConnectionsPerAddress = 256
    public var maxConnections = 4096
    /// The pace a request body must keep on average after its first 30 s (the connection is
    /// closed below it): a body trickled a byte at a time must not hold a connection forever.
    public var minimumBodyBytesPerSecond = 1024
    /// The most one user may keep on the server — their jobs' uploads, their files and uploads in
    /// progress together — before a new upload is refused `413 storage_quota_exceeded`.
    public var maxStoredBytesPerUser = 10 << 30
    /// When set, `/metrics` answers only `Authorization: Bearer <token>` (`sluice serve` reads it
    /// from `SLUICE_METRICS_TOKEN`): job counts and queue depth are the operator's, not every
    /// caller's, where the port is reachable.
    public var metricsToken: String?
    /// Event streams (`/v1/jobs/{id}/events`) one key may hold open at once (`429` beyond).
    public var maxEventStreamsPerKey = 16

    /// Bounds on a request's headers (`431` beyond): a field, all of them, and how many.
    public static let maxHeaderFieldBytes = 16 << 10
    public static let maxHeaderBytes = 32 << 10
    public static let maxHeaderFieldCount = 100

    public init(
        host: String = "127.0.0.1", port: Int = 8080, auth: AuthMode? = nil, uploadDirectory: String,
        maxUploadBytes: Int = 2 << 30, requestsPerMinute: Double? = 6_000, requestBurst: Int = 200, corsOrigins: [String] = [],
        eventInterval: Double = 0.5, sessionSeconds: Double = 12 * 3600, secureCookies: Bool = false, idleTimeoutSeconds: Double = 60,
        headTimeoutSeconds: Double = 10, maxUploadsPerKey: Int = 4, tls: TLSFiles? = nil
    ) {
        self.tls = tls
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.headTimeoutSeconds = headTimeoutSeconds
        self.maxUploadsPerKey = maxUploadsPerKey
        self.host = host
        self.port = port
        self.auth = auth ?? (Loopback.contains(host) ? .off : .required)
        self.uploadDirectory = uploadDirectory
        self.maxUploadBytes = maxUploadBytes
        self.requestsPerMinute = requestsPerMinute
        self.requestBurst = requestBurst
        self.corsOrigins = corsOrigins
        self.eventInterval = eventInterval
        self.sessionSeconds = sessionSeconds
        // Cookies set over HTTPS are marked so: a browser then never sends them in the clear.
        self.secureCookies = secureCookies || tls != nil
    }

    /// The scheme clients reach this server by.
    public var scheme: String { tls == nil ? "http" : "https" }

    /// Refuses a server that would be open to the network.
    public func validate() throws(ServerConfigurationError) {
        if auth == .off, !Loopback.contains(host) {
            throw ServerConfigurationError(
                message: "refusing to serve \(host) with --auth off: only a loopback address may run without API keys")
        }
        guard maxUploadBytes > 0 else { throw ServerConfigurationError(message: "the upload limit must be positive") }
        guard sessionSeconds >= 60 else { throw ServerConfigurationError(message: "a web session must last at least a minute") }
        guard idleTimeoutSeconds > 0, headTimeoutSeconds > 0 else {
            throw ServerConfigurationError(message: "the idle and header timeouts must be positive")
        }
        if let tls { _ = try SluiceServer.serving(tls) }
        guard maxUploadsPerKey > 0 else { throw ServerConfigurationError(message: "a key must be allowed at least one upload at a time") }
        if let requestsPerMinute, requestsPerMinute <= 0 {
            throw ServerConfigurationError(message: "the request rate limit must be positive")
        }
    }

    /// Whether a request naming `authority` (its `Host`, perhaps with a port) may be served
    /// while auth is off: a loopback name or address, or one of ``allowedHosts``.
    public func acceptsHost(_ authority: String) -> Bool {
        var host = Substring(authority)
        if host.hasPrefix("["), let end = host.firstIndex(of: "]") {
            host = host[...end]
        } else if let colon = host.lastIndex(of: ":") {
            host = host[..<colon]
        }
        return Loopback.contains(String(host)) || allowedHosts.contains { $0.caseInsensitiveCompare(host) == .orderedSame }
    }
}
