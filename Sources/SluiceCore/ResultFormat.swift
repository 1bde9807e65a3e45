import Foundation

/// The results contract: how an item is written as a JSONL line or a CSV row.
public enum ResultFormat: String, Sendable, CaseIterable {
    case csv
    case jsonl
    /// An Excel workbook with the CSV's columns (see ``ResultFormatter/cells(_:columns:)``).
    case xlsx

    /// The format an output file name implies (`.csv`, `.jsonl`/`.ndjson`, `.xlsx`).
    public init?(fileName: String) {
        let lower = fileName.lowercased()
        if lower.hasSuffix(".csv") {
            self = .csv
        } else if lower.hasSuffix(".xlsx") {
            self = .xlsx
        } else if lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson") {
            self = .jsonl
        } else {
            return nil
        }
    }
}
