import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SluiceCore
import SluiceStore

/// Resolves the caller: `Authorization: Bearer …` for the API, or a signed-in browser's session
/// cookie (see ``BrowserSession``). Refuses missing, unknown and revoked keys on API paths; the
/// web page's paths go on without a caller, and the page sends the browser to sign in.
///
/// A session cookie only reads the API (the page's live progress and downloads): changing
/// state through `/v1` takes the key itself, which no other site can make a browser send.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = SluiceRequestContext
    let mode: AuthMode
    let keys: any KeyStore
    let clock: any SluiceClock
    /// Paths that answer without a key: probes, metrics and the API description.
    static let openPaths: Set<String> = ["/healthz", "/readyz", "/metrics", "/openapi.yaml"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let path = request.uri.path
        if Self.openPaths.contains(path) { return try await next(request, context) }
        switch mode {
        case .off:
            context.principal = .local
        case .required:
            if let secret = try Self.presentedKey(request) {
                guard let key = try await keys.key(hash: APIKeys.hash(secret)) else { throw Self.refusal("the API key is not valid") }
                guard key.revokedAt == nil else { throw Self.refusal("the API key has been revoked") }
                context.principal = Principal(key)
            } else if let key = try await BrowserSession.key(of: request, keys: keys, now: clock.now()) {
                if Self.isAPI(path), ![.get, .head].contains(request.method) {
                    throw Self.refusal("a signed-in browser may only read the API: send Authorization: Bearer <key> to change things")
                }
                context.principal = Principal(key)
            } else if Self.isAPI(path) {
                throw Self.refusal("an API key is required: send Authorization: Bearer <key>")
            }
        }
        context.logger[metadataKey: "user"] = .string(context.principal?.user ?? "")
        return try await next(request, context)
    }

    /// Whether the key or sign-in `request` presented still holds: the key not revoked, the
    /// session not ended. Long-lived answers (event streams) ask it again as they go.
    static func stillHolds(_ request: Request, keys: any KeyStore, clock: any SluiceClock) async -> Bool {
        if let secret = (try? presentedKey(request)) ?? nil {
            guard let key = try? await keys.key(hash: APIKeys.hash(secret)) else { return false }
            return key.revokedAt == nil
        }
        return ((try? await BrowserSession.key(of: request, keys: keys, now: clock.now())) ?? nil) != nil
    }

    static let apiKeyHeader = HTTPField.Name("x-api-key")!

    /// The key a request presents: `Authorization: Bearer …` (OpenAI's way) or `x-api-key`
    /// (Anthropic's, which its SDK sends); `nil` when it presents none.
    static func presentedKey(_ request: Request) throws -> String? {
        if let header = request.headers[.authorization] {
            guard header.hasPrefix("Bearer ") else { throw Self.refusal("an API key is required: send Authorization: Bearer <key>") }
            return String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
        }
        return request.headers[apiKeyHeader]?.trimmingCharacters(in: .whitespaces)
    }

    /// The API's paths, which answer callers without a key with `401`; all others are pages.
    static func isAPI(_ path: String) -> Bool { path == "/v1" || path.hasPrefix("/v1/") }

    static func refusal(_ message: String) -> APIError {
        APIError(.unauthorized, code: "invalid_api_key", message, headers: [.wwwAuthenticate: "Bearer"])
    }
}
