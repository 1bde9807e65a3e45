import NIOCore
import NIOHTTP1
public import NIOSSL
import SluiceCore

/// Where a remote provider is and how to reach it: base URL, key, extra headers, deadline,
/// and the shared HTTP client. Both remote providers post JSON through it.
public struct ProviderEndpoint: Sendable {
    public let baseURL: String
    let apiKey: String?
    let extraHeaders: [(String, String)]
    let timeoutSeconds: Double
    let http: ProviderHTTPClient
    /// TLS settings of this provider's own (extra trusted authorities); the client's otherwise.
    let tls: TLSConfiguration?

    public init(
        baseURL: String, apiKey: String?, extraHeaders: [(String, String)] = [], timeoutSeconds: Double = 120, http: ProviderHTTPClient,
        tls: TLSConfiguration? = nil
    ) {
        self.tls = tls
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
        self.extraHeaders = extraHeaders
        self.timeoutSeconds = timeoutSeconds
        self.http = http
    }

    /// POSTs `body` to `path` under the base URL with the endpoint's headers plus `headers`,
    /// within `timeoutSeconds` when given, else the endpoint's own.
    func post(_ path: String, headers: [(String, String)], body: JSONValue, timeoutSeconds: Double? = nil) async throws(ProviderFailure)
        -> (JSONValue, RateLimitSignal)
    {
        try await http.postJSON(
            url: baseURL + path, headers: extraHeaders + headers, body: body, timeoutSeconds: timeoutSeconds ?? self.timeoutSeconds,
            secret: apiKey, tls: tls)
    }

    /// Sends a request to `path` under the base URL (a batch API's upload, status or results)
    /// and returns the reply's body as text; a results file may be larger than a reply.
    func send(
        _ method: HTTPMethod, _ path: String, headers: [(String, String)], body: ByteBuffer? = nil, maxBytes: Int = 256 << 20
    ) async throws(ProviderFailure) -> String {
        try await http.send(
            method, url: baseURL + path, headers: extraHeaders + headers, body: body, timeoutSeconds: timeoutSeconds, secret: apiKey,
            tls: tls,
            maxBytes: maxBytes
        ).0
    }
}

/// Printing an endpoint never shows its key.
extension ProviderEndpoint: CustomReflectable {
    public var customMirror: Mirror {
        Mirror(self, children: ["baseURL": baseURL, "apiKey": apiKey == nil ? "none" : "[redacted]", "timeoutSeconds": timeoutSeconds])
    }
}
