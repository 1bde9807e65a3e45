/// When a job must be done: from 1 hour to 7 days after it was created. A job past its deadline
/// ends `expired` — what was answered is kept, what was not is listed as expired — and, among one
/// user's jobs of equal priority, the nearest deadline is served first. An auto job moves from
/// the batch API to live calls in time to meet it.
public enum JobDeadline {
    /// The shortest and longest deadline a job may set.
    public static let range: ClosedRange<Double> = 3_600...(7 * 86_400)
    /// What an auto job that sets no deadline aims at: the batch APIs' own window. Such a job
    /// does not expire.
    public static let autoSeconds: Double = 86_400

    /// Parses a deadline such as `"90m"`, `"12h"` or `"7d"` into seconds, from 1 hour to 7 days;
    /// `field` names it in the error (`deadline`, or a batch's `completion_window`).
    public static func parse(_ json: JSONValue?, field: String = "deadline") throws(SpecError) -> Double? {
        guard let json, json != .null else { return nil }
        let message = "must be a duration from \"1h\" to \"7d\", such as \"90m\", \"12h\" or \"2d\""
        guard let text = json.stringValue, let seconds = DurationText.seconds(text), range.contains(seconds) else {
            throw SpecError(field: field, message: message)
        }
        return seconds
    }

    /// A deadline in the form it was given in: the largest unit that divides it.
    public static func text(_ seconds: Double) -> String {
        let whole = Int(seconds)
        if whole % 86_400 == 0 { return "\(whole / 86_400)d" }
        if whole % 3_600 == 0 { return "\(whole / 3_600)h" }
        return "\(whole / 60)m"
    }
}
