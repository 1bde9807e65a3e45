import Foundation

/// The file formats Sluice reads.
public enum InputFormat: String, Sendable, CaseIterable {
    case csv
    case json
    case jsonl
    case text
    /// PDF documents: their text, extracted with poppler's `pdftotext`, read as ``text``.
    case pdf
    /// An Excel workbook: one sheet, its first row naming the columns.
    case xlsx
    /// A ZIP archive of one table (CSV, JSON, JSON Lines or a workbook) and the files its rows
    /// name by path, such as the images of an `images` column.
    case zip
    /// OpenAI Batch API input: JSON Lines, each a whole chat-completions, embeddings or
    /// responses request with its `custom_id` (see SluiceWire's `RequestLine`). Never inferred from a file name.
    case openAIBatch = "openai_batch"
    /// Anthropic Message Batches requests as JSON Lines: `{"custom_id", "params"}` each.
    case anthropicBatch = "anthropic_batch"

    /// Whether each record is a whole model request of its own, needing no template.
    public var carriesRequests: Bool { self == .openAIBatch || self == .anthropicBatch }

    /// A file's format: the spec's `input.format`, else its name's (`named`) — but a `.zip` is
    /// read as one whatever the spec says, whose `input.format` then names its table's.
    public static func of(named: InputFormat?, declared: InputFormat?) -> InputFormat? {
        named == .zip ? .zip : declared ?? named
    }

    /// The format a file name implies, if any.
    public init?(fileName: String) {
        let lower = fileName.lowercased()
        if lower.hasSuffix(".csv") {
            self = .csv
        } else if lower.hasSuffix(".jsonl") || lower.hasSuffix(".ndjson") {
            self = .jsonl
        } else if lower.hasSuffix(".json") {
            self = .json
        } else if lower.hasSuffix(".txt") || lower.hasSuffix(".md") || lower.hasSuffix(".text") || lower.hasSuffix(".markdown") {
            self = .text
        } else if lower.hasSuffix(".pdf") {
            self = .pdf
        } else if lower.hasSuffix(".xlsx") {
            self = .xlsx
        } else if lower.hasSuffix(".zip") {
            self = .zip
        } else {
            return nil
        }
    }
}
