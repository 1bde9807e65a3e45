/// The configuration's `cache` section: who may be answered from whose earlier calls, for how
/// long, and whether the provider-compatible batch routes use the cache at all.
///
/// Entries are private to the key (the user) whose call produced them unless the operator
/// says the server's users trust each other: a shared entry answers a user with text another
/// user's input shaped (a prompt injection in a row), and a hit's speed tells one user what
/// another asked.
public struct CacheSettings: Sendable, Equatable {
    /// Whether an entry answers every user's identical request, not only its owner's.
    public var shareAcrossUsers: Bool
    /// How old an entry may be and still answer; older ones are ignored and removed.
    public var maxAgeSeconds: Double
    /// Whether jobs made through the OpenAI- and Anthropic-compatible batch routes may be
    /// answered from the cache. Off by default: those clients expect a real completion per line.
    public var batchAPIs: Bool

    public static let defaultMaxAgeSeconds: Double = 7 * 86_400

    public init(shareAcrossUsers: Bool = false, maxAgeSeconds: Double = Self.defaultMaxAgeSeconds, batchAPIs: Bool = false) {
        self.shareAcrossUsers = shareAcrossUsers
        self.maxAgeSeconds = maxAgeSeconds
        self.batchAPIs = batchAPIs
    }

    /// The scope an entry made for `owner`'s job lives in: the owner, or everyone when shared.
    public func scope(owner: String) -> String { shareAcrossUsers ? "*" : owner }

    static func parse(_ json: JSONValue) throws(ConfigurationError) -> CacheSettings {
        var settings = CacheSettings()
        guard json != .null else { return settings }
        guard case .object(let object) = json else { throw ConfigurationError(path: "cache", message: "must be a mapping") }
        try ConfigurationError.refuseUnknown(object, allowed: ["share_across_users", "max_age_seconds", "batch_apis"], at: "cache")
        for (key, path) in [("share_across_users", \CacheSettings.shareAcrossUsers), ("batch_apis", \CacheSettings.batchAPIs)] {
            guard let value = object[key], value != .null else { continue }
            guard case .bool(let on) = value else { throw ConfigurationError(path: "cache.\(key)", message: "must be true or false") }
            settings[keyPath: path] = on
        }
        if let value = object["max_age_seconds"], value != .null {
            guard let seconds = value.doubleValue, seconds > 0, seconds <= 366 * 86_400 else {
                throw ConfigurationError(path: "cache.max_age_seconds", message: "must be more than 0 and at most a year (31622400)")
            }
            settings.maxAgeSeconds = seconds
        }
        return settings
    }
}
