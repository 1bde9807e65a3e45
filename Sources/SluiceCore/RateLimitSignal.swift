public import Foundation

/// What a provider's response headers say about its limits, in provider-neutral terms.
///
/// Parsed from `Retry-After` (seconds or an HTTP date), OpenAI's
/// `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` (resets as durations such as `1s`,
/// `6m0s`, `250ms`) and Anthropic's `anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}`
/// (resets as RFC 3339 timestamps).
public struct RateLimitSignal: Sendable, Equatable {
    /// One limited quantity: its per-minute limit, what is left, and seconds until it refills.
    public struct Window: Sendable, Equatable {
        public var limit: Double?
        public var remaining: Double?
        public var resetIn: Double?

        public init(limit: Double? = nil, remaining: Double? = nil, resetIn: Double? = nil) {
            self.limit = limit
            self.remaining = remaining
            self.resetIn = resetIn
        }

        var isEmpty: Bool { limit == nil && remaining == nil && resetIn == nil }
    }

    /// Seconds to wait before trying again, when the provider said so.
    public var retryAfter: Double?
    public var requests: Window?
    public var tokens: Window?

    public init(retryAfter: Double? = nil, requests: Window? = nil, tokens: Window? = nil) {
        self.retryAfter = retryAfter
        self.requests = requests
        self.tokens = tokens
    }

    public var isEmpty: Bool { retryAfter == nil && requests == nil && tokens == nil }

    /// How long a throttled caller waits: `Retry-After`, else the sooner-listed reset, else one
    /// second when the provider said nothing.
    public var retryDelay: Double { retryAfter ?? requests?.resetIn ?? tokens?.resetIn ?? 1 }

    /// Reads the headers of one response (names compared case-insensitively) at time `now`.
    public init(headers: [(name: String, value: String)], now: Date) {
        var values: [String: String] = [:]
        for header in headers { values[header.name.lowercased()] = header.value.trimmingCharacters(in: .whitespaces) }
        retryAfter =
            values["retry-after-ms"].flatMap(Double.init).map { $0 / 1000 }
            ?? values["retry-after"].flatMap { Self.retryAfterSeconds($0, now: now) }
        func window(_ quantity: String) -> Window? {
            var window = Window()
            window.limit = (values["x-ratelimit-limit-\(quantity)"] ?? values["anthropic-ratelimit-\(quantity)-limit"]).flatMap(Double.init)
            window.remaining = (values["x-ratelimit-remaining-\(quantity)"] ?? values["anthropic-ratelimit-\(quantity)-remaining"])
                .flatMap(Double.init)
            if let reset = values["x-ratelimit-reset-\(quantity)"] {
                window.resetIn = Self.durationSeconds(reset)
            } else if let reset = values["anthropic-ratelimit-\(quantity)-reset"], let date = Self.rfc3339(reset) {
                window.resetIn = max(0, date.timeIntervalSince(now))
            }
            return window.isEmpty ? nil : window
        }
        requests = window("requests")
        tokens = window("tokens")
    }

    /// `Retry-After`: delay-seconds, or an HTTP date (RFC 9110), as seconds from `now`.
    public static func retryAfterSeconds(_ value: String, now: Date) -> Double? {
        if let seconds = Double(value), seconds >= 0 { return seconds }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }

    /// OpenAI's reset durations: `1s`, `6m0s`, `250ms`, `1h2m3.5s`, `20ms`.
    public static func durationSeconds(_ value: String) -> Double? {
        var total = 0.0
        var number = ""
        var index = value.startIndex
        var sawUnit = false
        while index < value.endIndex {
            let character = value[index]
            if character.isNumber || character == "." {
                number.append(character)
                index = value.index(after: index)
                continue
            }
            guard let amount = Double(number) else { return nil }
            let rest = value[index...]
            let unit: Double
            if rest.hasPrefix("ms") {
                unit = 0.001
                index = value.index(index, offsetBy: 2)
            } else if rest.hasPrefix("h") {
                unit = 3600
                index = value.index(after: index)
            } else if rest.hasPrefix("m") {
                unit = 60
                index = value.index(after: index)
            } else if rest.hasPrefix("s") {
                unit = 1
                index = value.index(after: index)
            } else {
                return nil
            }
            total += amount * unit
            number = ""
            sawUnit = true
        }
        if !number.isEmpty { return sawUnit ? nil : Double(number) }
        return sawUnit ? total : nil
    }

    static func rfc3339(_ value: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: value) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: value)
    }
}
