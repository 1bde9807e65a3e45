import Foundation
import HTTPTypes
import Hummingbird
import SluiceCore
import Synchronization

/// Answers `429` with `Retry-After` once a key spends its request budget.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = SluiceRequestContext
    let limiter: RequestRateLimiter
    let clock: any SluiceClock

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let principal = context.principal, let wait = limiter.admit(principal.keyID, now: clock.now().timeIntervalSince1970) {
            let seconds = max(1, Int(wait.rounded(.up)))
            throw APIError(
                .tooManyRequests, code: "rate_limit_exceeded", "too many requests for this API key; retry in \(seconds) s",
                headers: [.retryAfter: String(seconds)])
        }
        return try await next(request, context)
    }
}
