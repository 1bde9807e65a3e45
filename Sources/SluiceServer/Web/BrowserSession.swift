import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import SluiceStore

/// How a browser signs in and how its forms are kept from other sites.
///
/// Signing in trades an API key, typed once, for a session: a random secret in an HttpOnly,
/// SameSite=Strict cookie, of which the store keeps only the hash. The key is never written to
/// the page, the browser's storage or a URL. A session ends when it expires, on sign-out, or
/// when its key is revoked.
///
/// Forms that change state carry a token that must equal the `sluice_csrf` cookie (a double
/// submit): another site can neither read the cookie nor, SameSite=Strict, make the browser
/// send it. The same check works with auth off, where there is no session to hang it on.
enum BrowserSession {
    static let sessionCookie = "sluice_session"
    static let tokenCookie = "sluice_csrf"
    /// The form field that carries the token.
    static let tokenField = "csrf"

    /// A new secret: 256 random bits as hex, safe in a cookie.
    static func secret() -> String { APIKeys.randomHex(bytes: 32) }

    static func hash(_ secret: String) -> String { APIKeys.hash(secret) }

    /// The signed-in key of the request's session cookie, if it has a live one.
    static func key(of request: Request, keys: any KeyStore, now: Date) async throws -> APIKeyRecord? {
        guard let secret = request.cookies[sessionCookie]?.value, isWellFormed(secret) else { return nil }
        return try await keys.sessionKey(hash: hash(secret), now: now)
    }

    static func isWellFormed(_ secret: String) -> Bool {
        secret.utf8.count == 64 && secret.utf8.allSatisfy { isxdigit(Int32($0)) != 0 }
    }

    /// Whether cookies must be `Secure`: the server is configured so, or a TLS-terminating
    /// proxy says the browser came over HTTPS.
    static func isSecure(_ request: Request, configuration: ServerConfiguration) -> Bool {
        configuration.secureCookies || request.headers[.forwardedProto]?.lowercased() == "https"
    }

    static func cookie(_ name: String, _ value: String, maxAge: Int?, secure: Bool) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/", secure: secure, httpOnly: true, sameSite: .strict)
    }

    /// The request's form token, or a new one the response must set (see ``cookie(_:_:maxAge:secure:)``).
    static func token(of request: Request) -> (value: String, isNew: Bool) {
        if let value = request.cookies[tokenCookie]?.value, isWellFormed(value) { return (value, false) }
        return (secret(), true)
    }

    /// Refuses a state-changing form whose token is missing or is not the cookie's.
    static func checkToken(_ given: String?, request: Request) throws(APIError) {
        guard let cookie = request.cookies[tokenCookie]?.value, isWellFormed(cookie), let given,
            given.utf8.count == cookie.utf8.count, Self.constantTimeEqual(given, cookie)
        else {
            throw APIError(
                .forbidden, code: "csrf_refused", "this form is out of date or came from another site: reload the page and try again")
        }
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        zip(a.utf8, b.utf8).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0 && a.utf8.count == b.utf8.count
    }
}

extension HTTPField.Name {
    static let forwardedProto = HTTPField.Name("X-Forwarded-Proto")!
    static let contentSecurityPolicy = HTTPField.Name("Content-Security-Policy")!
    static let xContentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
}
