import Foundation

/// The step a job with steps is in; shown next to its progress.
public enum JobStage: String, Sendable, CaseIterable {
    /// Reading text out of the uploaded documents.
    case extracting
    /// One call per chunk (the map step).
    case mapping
    /// Combining the chunks' outputs into one result, in rounds when they do not fit one call.
    case reducing
}
