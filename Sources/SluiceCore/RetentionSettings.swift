/// The configuration's `retention` section: how long finished jobs and uploaded files are kept.
/// By default everything is kept until someone deletes it. With `"jobs": "30d"`, a job that
/// finished more than 30 days ago goes with its items (inputs, outputs, errors), its results and
/// the files it was read from; with `"files": "30d"`, a file uploaded through `/v1/files` more than
/// 30 days ago goes (batches copy their input file, so a job never depends on one).
public struct RetentionSettings: Sendable, Equatable {
    public var jobsSeconds: Double?
    public var filesSeconds: Double?

    /// The shortest retention: an hour, so a result is never gone before its owner could fetch it.
    public static let shortestSeconds: Double = 3_600

    public init(jobsSeconds: Double? = nil, filesSeconds: Double? = nil) {
        self.jobsSeconds = jobsSeconds
        self.filesSeconds = filesSeconds
    }

    static func parse(_ json: JSONValue) throws(ConfigurationError) -> RetentionSettings {
        var settings = RetentionSettings()
        guard json != .null else { return settings }
        guard case .object(let object) = json else { throw ConfigurationError(path: "retention", message: "must be a mapping") }
        try ConfigurationError.refuseUnknown(object, allowed: ["jobs", "files"], at: "retention")
        for (key, path) in [("jobs", \RetentionSettings.jobsSeconds), ("files", \RetentionSettings.filesSeconds)] {
            guard let value = object[key], value != .null else { continue }
            guard let text = value.stringValue, let seconds = DurationText.seconds(text), seconds >= shortestSeconds else {
                throw ConfigurationError(
                    path: "retention.\(key)", message: "must be a duration of an hour or more, such as \"30d\" or \"12h\"")
            }
            settings[keyPath: path] = seconds
        }
        return settings
    }
}

/// Durations as people write them in specs and configurations: a whole or decimal number and a
/// unit, `m`, `h` or `d` (`90m`, `12h`, `30d`).
public enum DurationText {
    /// The seconds `text` stands for; `nil` when it is not such a duration or not positive.
    public static func seconds(_ text: String) -> Double? {
        guard let unit = text.last, let count = Double(text.dropLast()), count > 0, count.isFinite else { return nil }
        switch unit {
        case "m": return count * 60
        case "h": return count * 3_600
        case "d": return count * 86_400
        default: return nil
        }
    }
}
