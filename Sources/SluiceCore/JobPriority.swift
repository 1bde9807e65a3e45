/// Which of one user's jobs runs first: across users the share stays fair (each user's turn
/// comes as before); within a user's turn, a higher priority goes ahead — an urgent 20-row job
/// does not wait behind its owner's 2,000-row one.
public enum JobPriority: String, Sendable, Equatable, CaseIterable {
    case high, normal, low

    /// The rank the claim orders by, highest first.
    public var rank: Int {
        switch self {
        case .high: 1
        case .normal: 0
        case .low: -1
        }
    }

    /// Parses a spec's `priority`; `nil` is `normal`.
    static func parse(_ json: JSONValue?) throws(SpecError) -> JobPriority {
        guard let json, json != .null else { return .normal }
        guard let name = json.stringValue, let priority = JobPriority(rawValue: name) else {
            throw SpecError(field: "priority", message: "must be one of high, normal, low")
        }
        return priority
    }
}
