import SluiceCore
import Synchronization

/// Job specs already parsed, by job id: every claim returns its job, and parsing the stored
/// spec (JSON, checked field by field) again for each claim of a thousand items cost more than
/// the claim's SQL. An entry serves only while the stored text is the same, so a spec changed
/// under the job is parsed afresh; at most ``capacity`` are kept (all dropped when full).
public final class ParsedSpecs: Sendable {
    static let capacity = 1024
    private let entries = Mutex<[String: (text: String, spec: JobSpec)]>([:])

    public init() {}

    /// The spec stored as `text` for job `id`, parsed by `parse` unless already known.
    func spec(id: String, text: String, parse: (String) throws -> JobSpec) throws -> JobSpec {
        if let known = entries.withLock({ $0[id] }), known.text == text { return known.spec }
        let spec = try parse(text)
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[id] = (text, spec)
        }
        return spec
    }
}
