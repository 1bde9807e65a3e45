import Foundation
public import SluiceCore
import SluiceWire

/// Turns parsed records into items: numbers them, derives their group, and refuses a record
/// the prompt template cannot be filled from — before anything reaches the store.
public struct ItemBuilder: Sendable {
    /// `nil` when each record is a whole request (``InputFormat/carriesRequests``).
    public let template: PromptTemplate?
    /// The endpoints whole requests may call: a batch's own, else any of its format's.
    let endpoints: [BatchEndpoint]
    public let groupBy: String?
    /// The spec's `vars`: fields every item has without carrying them.
    let vars: JSONObject
    /// The spec's image columns, each row's read (and refused) here, before any call.
    let images: [String]
    /// The spec's document columns: each row's cell names a file in the zip, read into its text here.
    let documents: [String]
    /// The files a zip upload's rows name by path; nil for any other upload, where a path is refused.
    public var files: ZipFiles?
    public private(set) var nextIndex = 0
    /// The `custom_id`s seen so far, when records are whole requests: each must be unique.
    var customIDs: Set<String> = []

    public init(spec: JobSpec, endpoint: String? = nil) {
        template = spec.template
        if let endpoint = endpoint.flatMap(BatchEndpoint.init(rawValue:)) {
            endpoints = [endpoint]
        } else {
            endpoints = spec.input.format == .anthropicBatch ? [.messages] : BatchEndpoint.openAI
        }
        groupBy = spec.groupBy
        vars = spec.vars
        images = spec.images
        documents = spec.documents
    }

    /// A header that lacks a column the template or the images need: one error for the file
    /// instead of one per row.
    public func checkColumns(_ columns: [String], line: Int = 1) -> InputProblem? {
        guard let template else { return nil }
        let missing = template.missingFields(inColumns: columns + vars.keys)
        if !missing.isEmpty {
            return InputProblem(line: line, message: "the template needs \(Self.describe(missing)), which the header does not have")
        }
        let noImages = images.filter { !columns.contains($0) }
        if !noImages.isEmpty {
            return InputProblem(
                line: line, message: "the images are in \(Self.describe(noImages, as: "column")), which the header does not have")
        }
        let noDocuments = documents.filter { !columns.contains($0) }
        guard !noDocuments.isEmpty else { return nil }
        return InputProblem(
            line: line, message: "the documents are in \(Self.describe(noDocuments, as: "column")), which the header does not have")
    }

    public mutating func item(from record: IngestRecord) -> Result<NewItem, InputProblem> {
        guard let template else { return request(from: record) }
        let missing = template.missingFields(in: record.fields.withDefaults(vars))
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
        var fields = record.fields
        let unread = readDocuments(into: &fields)
        return .success(NewItem(index: nextIndex, groupKey: groupKey, input: fields, failure: unread ?? imageRefusal(fields)))
    }

    /// Puts each document column's text in place of its path; why not, for the first that has
    /// none (the row then fails alone, with the reason). An empty cell is no document.
    func readDocuments(into fields: inout JSONObject) -> String? {
        for column in documents {
            guard let cell = fields[column]?.plainText, !cell.allSatisfy(\.isWhitespace) else { continue }
            let path = cell.trimmingCharacters(in: .whitespaces)
            guard let files else {
                return "\(column): '\(path)' names a file, which must be uploaded with the table in a .zip"
            }
            switch files.documentText(path: path) {
            case .success(let text): fields[column] = .string(text)
            case .failure(let refusal): return "\(column): \(refusal.message)"
            }
        }
        return nil
    }

    /// Why a row's image cannot be sent (a cell that is no image URL, image data or image file
    /// of the upload): that row alone fails, with the reason; an empty cell is no image.
    func imageRefusal(_ fields: JSONObject) -> String? {
        for column in images {
            guard let cell = fields[column]?.plainText, !cell.allSatisfy(\.isWhitespace) else { continue }
            if case .path(let path) = ImagePart.cell(cell) {
                guard let files else {
                    return
                        "\(column): '\(path)' is neither an http(s) URL nor a data: URI (a file's path needs the file uploaded with the table, in a .zip)"
                }
                if let refusal = files.refusal(path: path) { return "\(column): \(refusal)" }
                continue
            }
            do { _ = try ImagePart.read(cell: cell) } catch { return "\(column): \(error.description)" }
        }
        return nil
    }

    /// The item of a document that gave no text: failed from the start, with the reason.
    public mutating func failedDocument(_ message: String, name: String) -> NewItem {
        defer { nextIndex += 1 }
        return NewItem(index: nextIndex, groupKey: nil, input: JSONObject([("document", .string(name))]), failure: message)
    }

    /// A batch line, checked as its provider checks it; a repeated `custom_id` is refused.
    mutating func request(from record: IngestRecord) -> Result<NewItem, InputProblem> {
        switch RequestLine.check(record.fields, endpoints: endpoints) {
        case .failure(let problem):
            return .failure(InputProblem(line: record.line, code: problem.code, message: problem.message))
        case .success(let customID):
            guard customIDs.insert(customID).inserted else {
                return .failure(
                    InputProblem(
                        line: record.line, code: "duplicate_custom_id", message: "custom_id '\(customID)' is used by an earlier line"))
            }
            defer { nextIndex += 1 }
            return .success(NewItem(index: nextIndex, groupKey: nil, input: record.fields))
        }
    }

    static func describe(_ fields: [String], as noun: String = "field") -> String {
        let names = fields.map { "'\($0)'" }
        return "the \(noun)\(names.count == 1 ? "" : "s") " + names.joined(separator: ", ")
    }
}
