import SluiceCore

/// Turns parsed records into items: numbers them, derives their group, and refuses a record
/// the prompt template cannot be filled from — before anything reaches the store.
public struct ItemBuilder: Sendable {
    public let template: PromptTemplate
    public let groupBy: String?
    public private(set) var nextIndex = 0

    public init(spec: JobSpec) {
        template = spec.template
        groupBy = spec.groupBy
    }

    /// A header that lacks a column the template needs: one error for the file instead of one per row.
    public func checkColumns(_ columns: [String], line: Int = 1) -> InputProblem? {
        let missing = template.missingFields(inColumns: columns)
        guard !missing.isEmpty else { return nil }
        return InputProblem(line: line, message: "the template needs \(Self.describe(missing)), which the header does not have")
    }

    public mutating func item(from record: IngestRecord) -> Result<NewItem, InputProblem> {
        let missing = template.missingFields(in: record.fields)
        guard missing.isEmpty else {
            return .failure(
                InputProblem(line: record.line, message: "the template needs \(Self.describe(missing)), which this record does not have"))
        }
        var groupKey: String?
        if let groupBy, let value = PromptTemplate.lookup(groupBy, in: record.fields) {
            switch value {
            case .null: groupKey = nil
            case .string(let text): groupKey = text.isEmpty ? nil : text
            default: groupKey = JSONWriter.string(value)
            }
        }
        defer { nextIndex += 1 }
        return .success(NewItem(index: nextIndex, groupKey: groupKey, input: record.fields))
    }

    static func describe(_ fields: [String]) -> String {
        let names = fields.map { "'\($0)'" }
        return (names.count == 1 ? "the field " : "the fields ") + names.joined(separator: ", ")
    }
}
