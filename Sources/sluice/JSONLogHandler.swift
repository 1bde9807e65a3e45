import Foundation
import Logging
import SluiceCore

/// One JSON object per log line on standard error — time, level, label, message and every
/// metadata key (request, job and item ids) — for log shippers to index.
struct JSONLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level
    let label: String
    /// Adds the current span's `trace_id` and `span_id` when traces are exported.
    var metadataProvider: Logger.MetadataProvider?

    init(label: String, level: Logger.Level = .info, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        logLevel = level
        self.metadataProvider = metadataProvider
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var object = JSONObject()
        object["time"] = .string(Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        object["level"] = .string(event.level.rawValue)
        object["label"] = .string(label)
        object["message"] = .string(event.message.description)
        let merged = (metadataProvider?.get() ?? [:]).merging(metadata) { _, new in new }.merging(event.metadata ?? [:]) { _, new in new }
        for key in merged.keys.sorted() { object[key] = Self.json(merged[key]!) }
        var bytes = JSONWriter.bytes(.object(object))
        bytes.append(0x0A)
        // One write(2) per line, so lines from concurrent requests never interleave.
        bytes.withUnsafeBytes { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    static func json(_ value: Logger.MetadataValue) -> JSONValue {
        switch value {
        case .string(let text): .string(text)
        case .stringConvertible(let convertible): .string(convertible.description)
        case .array(let values): .array(values.map(json))
        case .dictionary(let members): .object(JSONObject(members.sorted { $0.key < $1.key }.map { ($0.key, json($0.value)) }))
        }
    }
}
