import SluiceCore

/// A spec given as form fields or query parameters: a whole `spec` JSON, and/or single
/// fields (`preset`, `model`, `format`, …) that override it. Unknown names are refused, so a
/// typo is a `400`, not a silently ignored setting.
enum SpecFields {
    static let strings: Set<String> = [
        "name", "preset", "template", "system", "provider", "model", "group_by", "tier", "deadline", "priority", "image_detail",
        "tool_choice",
    ]
    static let integers: Set<String> = ["batch_size", "items_per_request", "max_attempts", "max_reply_tokens"]
    static let jsonValues: Set<String> = [
        "output_schema", "params", "fields", "budget", "failure_brake", "cache", "vars", "reduce", "tools",
    ]
    /// `field=NAME=COLUMN`, repeatable: one entry of the spec's `fields`, as `--field` on the CLI.
    static let fieldName = "field"
    /// `var=NAME=VALUE`, repeatable: one entry of the spec's `vars`, as `--var` on the CLI.
    static let varName = "var"
    /// `image_column=COLUMN`, repeatable: one of the spec's `images`, as `--image-column` on the CLI.
    static let imageColumnName = "image_column"
    /// `document_column=COLUMN`, repeatable: one of the spec's `documents`, as `--document-column`.
    static let documentColumnName = "document_column"
    static let inputOptions: Set<String> = ["format", "delimiter", "records", "text_mode", "chunk_chars", "sheet"]

    /// The spec's JSON form; names in `ignoring` belong to the request, not the spec.
    static func json(from pairs: [(name: String, value: String)], ignoring: Set<String> = []) throws(APIError) -> JSONValue {
        var spec = JSONObject()
        var input = JSONObject()
        // An empty field is a field left blank (HTML forms send them): not given.
        let pairs = pairs.filter { !$0.value.isEmpty }
        if let text = pairs.last(where: { $0.name == "spec" })?.value {
            guard case .object(let object) = try parse(text, field: "spec") else {
                throw APIError.badRequest("spec must be a JSON object", param: "spec")
            }
            spec = object
            if case .object(let given)? = spec["input"] { input = given }
        }
        for (name, value) in pairs where name != "spec" && !ignoring.contains(name) {
            if strings.contains(name) {
                spec[name] = .string(value)
            } else if integers.contains(name) {
                guard let number = Int(value) else { throw APIError.badRequest("\(name) must be an integer", param: name) }
                spec[name] = .int(number)
            } else if jsonValues.contains(name) {
                spec[name] = try parse(value, field: name)
            } else if name == "chunk_chars" {
                guard let number = Int(value) else { throw APIError.badRequest("chunk_chars must be an integer", param: name) }
                input[name] = .int(number)
            } else if inputOptions.contains(name) {
                input[name] = .string(value)
            } else if name == imageColumnName || name == documentColumnName {
                let member = name == imageColumnName ? "images" : "documents"
                var columns = spec[member]?.arrayValue ?? spec[member].map { [$0] } ?? []
                columns.append(.string(value))
                spec[member] = .array(columns)
            } else if name == fieldName || name == varName {
                guard let (key, text) = JobSpec.assignment(value) else {
                    throw APIError.badRequest(
                        name == fieldName
                            ? "field must be NAME=COLUMN, such as message=question" : "var must be NAME=VALUE, such as course_title=Intro",
                        param: name)
                }
                let member = name == fieldName ? "fields" : "vars"
                var entries = spec[member]?.objectValue ?? JSONObject()
                entries[key] = .string(text)
                spec[member] = .object(entries)
            } else {
                throw APIError.badRequest(
                    "unknown field '\(name)' (spec fields: spec, \((strings.union(integers).union(jsonValues).union(inputOptions).union([fieldName, varName, imageColumnName, documentColumnName])).sorted().joined(separator: ", ")))",
                    param: name)
            }
        }
        if !input.isEmpty { spec["input"] = .object(input) }
        return .object(spec)
    }

    static func parse(_ text: String, field: String) throws(APIError) -> JSONValue {
        do {
            return try JSONParser.parse(text)
        } catch {
            throw APIError.badRequest(
                "\(field) is not valid JSON: line \(error.line), column \(error.column): \(error.message)", param: field)
        }
    }
}
