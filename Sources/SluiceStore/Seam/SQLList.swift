import Foundation

/// Runs a batch of `IN (?, …)` statements in slices a statement can bind.
public enum SQLList {
    public static let maximumLength = 500

    /// `?, ?, ?` for `count` values.
    public static func marks(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }

    /// The values in slices of at most ``maximumLength``.
    public static func slices<T>(_ values: [T]) -> [ArraySlice<T>] {
        stride(from: 0, to: values.count, by: maximumLength).map { values[$0..<min($0 + maximumLength, values.count)] }
    }
}
