import ArgumentParser
import SluiceCore

/// Spec fields a command line may set without writing a spec file; they override the preset's
/// or the spec file's, exactly as the same fields in the HTTP API do.
struct SpecOptions: ParsableArguments {
    @Option(
        name: .customLong("field"),
        help: ArgumentHelp("Read a field the prompt uses from another column, as NAME=COLUMN (repeatable).", valueName: "NAME=COLUMN"))
    var fields: [String] = []

    @Option(
        name: .customLong("var"),
        help: ArgumentHelp(
            "A value every template may use, as NAME=VALUE (repeatable), such as course_title=Intro.", valueName: "NAME=VALUE"))
    var vars: [String] = []

    @Option(
        name: .customLong("image-column"),
        help: ArgumentHelp(
            "A column of images (http(s) URLs, data: URIs, or paths of files in a .zip upload) sent after each row's prompt (repeatable).",
            valueName: "COLUMN"))
    var imageColumns: [String] = []

    @Option(
        name: .customLong("document-column"),
        help: ArgumentHelp(
            "A column naming documents (PDF or text files in a .zip upload): each row's field becomes its document's text (repeatable).",
            valueName: "COLUMN"))
    var documentColumns: [String] = []

    @Option(help: "low, high or auto: the detail OpenAI's models read the images at.")
    var imageDetail: String?

    @Option(help: "The sheet of an .xlsx workbook to read (default: the first).")
    var sheet: String?

    @Option(help: "Rows packed into one model call (1–100); replies are matched to rows by key.")
    var itemsPerRequest: Int?

    @Option(help: "Pause the job before it spends more than this many tokens.")
    var budgetTokens: Int?

    @Option(name: .customLong("budget-usd"), help: "Pause the job before it costs more than this (needs prices in --config).")
    var budgetUSD: Double?

    @Flag(help: "Call the model even when an identical request has a cached answer.")
    var noCache = false

    @Option(help: "high, normal or low: which of the owner's jobs runs first.")
    var priority: String?

    @Option(help: "When the job must be done, 1h to 7d (such as 90m, 12h, 2d): unfinished items then expire.")
    var deadline: String?

    func validate() throws {
        for field in fields where JobSpec.assignment(field) == nil {
            throw ValidationError("--field \(field): give NAME=COLUMN, such as question=message")
        }
        for value in vars where JobSpec.assignment(value) == nil {
            throw ValidationError("--var \(value): give NAME=VALUE, such as course_title=Water treatment")
        }
        if let imageDetail, !["low", "high", "auto"].contains(imageDetail) {
            throw ValidationError("--image-detail must be low, high or auto")
        }
        if imageColumns.contains(where: \.isEmpty) { throw ValidationError("--image-column needs a column name") }
        if documentColumns.contains(where: \.isEmpty) { throw ValidationError("--document-column needs a column name") }
        if let itemsPerRequest, !(1...100).contains(itemsPerRequest) {
            throw ValidationError("--items-per-request must be from 1 to 100")
        }
        if let budgetTokens, budgetTokens <= 0 { throw ValidationError("--budget-tokens must be positive") }
        if let budgetUSD, !(budgetUSD > 0) { throw ValidationError("--budget-usd must be positive") }
        if let priority, JobPriority(rawValue: priority) == nil { throw ValidationError("--priority must be high, normal or low") }
        if let deadline, (try? JobDeadline.parse(.string(deadline))) == nil {
            throw ValidationError("--deadline must be a duration from 1h to 7d, such as 90m, 12h or 2d")
        }
    }

    /// The budget these options give, if any; applied to a resumed job as its new cap.
    var budget: Budget? {
        budgetTokens == nil && budgetUSD == nil ? nil : Budget(tokens: budgetTokens, costUSD: budgetUSD)
    }

    /// The spec members these options set.
    var overrides: JSONObject {
        var object = JSONObject()
        if !fields.isEmpty {
            object["fields"] = .object(JSONObject(fields.compactMap(JobSpec.assignment).map { (key: $0.0, value: .string($0.1)) }))
        }
        if !vars.isEmpty {
            object["vars"] = .object(JSONObject(vars.compactMap(JobSpec.assignment).map { (key: $0.name, value: .string($0.value)) }))
        }
        if !imageColumns.isEmpty { object["images"] = .array(imageColumns.map { .string($0) }) }
        if !documentColumns.isEmpty { object["documents"] = .array(documentColumns.map { .string($0) }) }
        if let imageDetail { object["image_detail"] = .string(imageDetail) }
        if let itemsPerRequest { object["items_per_request"] = .int(itemsPerRequest) }
        if let sheet { object["input"] = ["sheet": .string(sheet)] }
        if let budget { object["budget"] = budget.json }
        if noCache { object["cache"] = false }
        if let priority { object["priority"] = .string(priority) }
        if let deadline { object["deadline"] = .string(deadline) }
        return object
    }
}
