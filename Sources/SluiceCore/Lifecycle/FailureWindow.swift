/// The failure brake's memory: the outcomes of a job's latest finished items, `s` or `f`,
/// latest last, kept to the brake's window.
public enum FailureWindow {
    public static func slide(_ recent: String, appending outcomes: String, size: Int) -> String {
        String((recent + outcomes).suffix(size))
    }

    /// The pause reason when `window` trips `brake`, or `nil`.
    public static func pauseReason(_ window: String, brake: FailureBrake, lastError: String?) -> String? {
        let failures = window.count { $0 == "f" }
        guard brake.trips(failures: failures, of: window.count) else { return nil }
        var reason = "failure brake: \(failures) of the last \(window.count) items failed"
        if let lastError { reason += " (last error: \(lastError.prefix(300)))" }
        return reason + "; fix the cause (prompt, model, provider) and resume, or cancel"
    }
}
