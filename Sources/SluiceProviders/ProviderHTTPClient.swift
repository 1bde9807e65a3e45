import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import SluiceCore

/// The HTTP side shared by remote providers: one pooled AsyncHTTPClient per process, a
/// deadline per call, and the mapping of every way a call can go wrong onto
/// ``ProviderFailure``.
///
/// Secrets travel only in request headers; every message that leaves here has the key
/// redacted, because some providers echo part of it in their 401 bodies.
public final class ProviderHTTPClient: Sendable {
    let client: HTTPClient
    /// Where a failed call's whole story goes: tenants are told its class (see
    /// ``ProviderFailure/classify(status:message:signal:)``), operators read this.
    static let logger = Logger(label: "sluice.provider")
    /// Bodies larger than this are refused: a chat completion is never this big.
    static let maximumBodyBytes = 32 * 1024 * 1024

    /// `readTimeoutSeconds` bounds the silence between two reads of one response; each call's
    /// own deadline (the provider's `timeout_seconds`) bounds the whole call.
    public init(connectTimeoutSeconds: Int64 = 10, readTimeoutSeconds: Int64 = 300) {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(connectTimeoutSeconds), read: .seconds(readTimeoutSeconds))
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 128)
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Closes pooled connections; call once when the process stops making calls.
    public func shutdown() async throws {
        try await client.shutdown()
    }

    /// POSTs `body` as JSON and returns the parsed JSON reply and what its headers said
    /// about rate limits.
    func postJSON(
        url: String, headers: [(String, String)], body: JSONValue, timeoutSeconds: Double, secret: String?, tls: TLSConfiguration? = nil
    ) async throws(ProviderFailure) -> (JSONValue, RateLimitSignal) {
        let (text, signal) = try await send(
            .POST, url: url, headers: [("Content-Type", "application/json")] + headers, body: ByteBuffer(string: JSONWriter.string(body)),
            timeoutSeconds: timeoutSeconds, secret: secret, tls: tls)
        do {
            return (try JSONParser.parse(text), signal)
        } catch {
            throw .transient("the provider's reply is not valid JSON (\(error.message))")
        }
    }

    /// Sends one request and returns the reply's body as text, and what its headers said about
    /// rate limits; an error status is classified (``ProviderFailure/classify(status:message:code:signal:)``).
    func send(
        _ method: HTTPMethod, url: String, headers: [(String, String)], body: ByteBuffer?, timeoutSeconds: Double, secret: String?,
        tls: TLSConfiguration? = nil, maxBytes: Int = maximumBodyBytes
    ) async throws(ProviderFailure) -> (String, RateLimitSignal) {
        var request = HTTPClientRequest(url: url)
        request.tlsConfiguration = tls
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(body) }
        let status: Int
        let text: String
        let signal: RateLimitSignal
        do {
            let response = try await client.execute(request, timeout: .milliseconds(Int64(timeoutSeconds * 1000)))
            status = Int(response.status.code)
            signal = RateLimitSignal(headers: response.headers.map { ($0.name, $0.value) }, now: Date())
            let buffer = try await response.body.collect(upTo: maxBytes)
            text = String(buffer: buffer)
        } catch let error as HTTPClientError where error == .deadlineExceeded {
            throw .transient("timed out after \(Self.seconds(timeoutSeconds))")
        } catch {
            Self.logger.warning(
                "a provider call failed", metadata: ["url": "\(url)", "error": "\(Self.redact("\(error)", secret: secret))"])
            throw .transient(ConnectionFailure.name(of: error))
        }
        guard (200..<300).contains(status) else {
            let message = Self.redact(Self.errorMessage(in: text), secret: secret)
            Self.logger.notice("a provider answered an error", metadata: ["url": "\(url)", "status": "\(status)", "message": "\(message)"])
            let code = (try? JSONParser.parse(text))?["error"]?["code"]?.stringValue
            throw ProviderFailure.classify(status: status, message: message, code: code, signal: signal)
        }
        return (text, signal)
    }

    /// The `error.message` of an OpenAI or Anthropic error body, or the body's start.
    static func errorMessage(in body: String) -> String {
        if let json = try? JSONParser.parse(body) {
            if let message = json["error"]?["message"]?.stringValue { return message }
            if let message = json["error"]?.stringValue ?? json["message"]?.stringValue { return message }
        }
        let trimmed = body.trimmingCharacters(in: .whitespacesAndNewlines)
        return trimmed.isEmpty ? "no message" : String(trimmed.prefix(300))
    }

    static func redact(_ text: String, secret: String?) -> String {
        guard let secret, secret.count >= 4 else { return text }
        return text.replacingOccurrences(of: secret, with: "[redacted]")
    }

    static func seconds(_ value: Double) -> String {
        value.rounded() == value ? "\(Int(value))s" : String(format: "%.1fs", value)
    }
}
