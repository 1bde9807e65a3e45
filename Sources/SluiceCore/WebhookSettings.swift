/// The configuration's `webhooks` section: which targets an endpoint may name, and how long
/// a delivery keeps being tried.
public struct WebhookSettings: Sendable, Equatable {
    /// Whether endpoints may point at loopback, private, link-local or otherwise internal
    /// addresses. Off by default: a webhook URL must not let a user make the server call
    /// into its own network (server-side request forgery).
    public var allowPrivateTargets: Bool
    /// Seconds to wait before each retry of a failed delivery; when they are used up the
    /// delivery has failed. The default tries for about 16 hours.
    public var retrySeconds: [Double]
    /// How long one try may take before it counts as failed.
    public var timeoutSeconds: Double

    public static let defaultRetrySeconds: [Double] = [5, 30, 120, 600, 1800, 3600, 7200, 14400, 28800]

    public init(allowPrivateTargets: Bool = false, retrySeconds: [Double] = Self.defaultRetrySeconds, timeoutSeconds: Double = 15) {
        self.allowPrivateTargets = allowPrivateTargets
        self.retrySeconds = retrySeconds
        self.timeoutSeconds = timeoutSeconds
    }

    /// When a delivery whose `attempt`-th try (from 1) failed is tried next, or `nil` when it
    /// has had every try.
    public func delay(afterAttempt attempt: Int) -> Double? {
        retrySeconds.indices.contains(attempt - 1) ? retrySeconds[attempt - 1] : nil
    }

    static func parse(_ json: JSONValue) throws(ConfigurationError) -> WebhookSettings {
        var settings = WebhookSettings()
        guard json != .null else { return settings }
        guard case .object(let object) = json else { throw ConfigurationError(path: "webhooks", message: "must be a mapping") }
        try ConfigurationError.refuseUnknown(
            object, allowed: ["allow_private_targets", "retry_seconds", "timeout_seconds"], at: "webhooks")
        if let value = object["allow_private_targets"], value != .null {
            guard case .bool(let allowed) = value else {
                throw ConfigurationError(path: "webhooks.allow_private_targets", message: "must be true or false")
            }
            settings.allowPrivateTargets = allowed
        }
        if let value = object["retry_seconds"], value != .null {
            guard let list = value.arrayValue, list.count <= 50,
                let seconds = Optional(list.compactMap(\.doubleValue)), seconds.count == list.count,
                seconds.allSatisfy({ $0 > 0 && $0 <= 86_400 })
            else {
                throw ConfigurationError(
                    path: "webhooks.retry_seconds", message: "must be a list of up to 50 waits, each 0 to 86400 seconds")
            }
            settings.retrySeconds = seconds
        }
        if let value = object["timeout_seconds"], value != .null {
            guard let seconds = value.doubleValue, seconds > 0, seconds <= 300 else {
                throw ConfigurationError(path: "webhooks.timeout_seconds", message: "must be more than 0 and at most 300")
            }
            settings.timeoutSeconds = seconds
        }
        return settings
    }
}
