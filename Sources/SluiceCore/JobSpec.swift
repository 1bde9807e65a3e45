import Foundation

/// What to do with every item of a job: the contract's job spec, resolved and checked.
///
/// A preset supplies defaults and explicit fields override it. Everything that can be checked
/// without the input is checked in ``parse(_:preset:)``; what depends on the input (a
/// placeholder the rows cannot fill) is checked by the ingestor before any item is stored.
public struct JobSpec: Sendable, Equatable {
    public var name: String?
    public var preset: String?
    public var input: InputOptions
    public var system: String?
    /// The prompt for each item; `nil` only for ``InputFormat/openAIBatch`` input, whose
    /// records are whole requests.
    public var template: PromptTemplate?
    public var outputSchema: OutputSchema?
    public var provider: String
    public var model: String
    public var params: JSONObject
    public var batchSize: Int
    public var itemsPerRequest: Int
    public var groupBy: String?
    public var maxAttempts: Int
    /// Whether an identical earlier request's validated output may stand in for a new call.
    public var cache: Bool
    /// The most the job may spend before it pauses itself; `nil` for no cap.
    public var budget: Budget?
    /// When the job pauses itself because its recent items mostly fail; `nil` for never.
    public var failureBrake: FailureBrake?
    /// Values every template may use besides the item's own fields (which win): a course's
    /// title, a language, anything the whole job shares.
    public var vars: JSONObject
    /// The step that combines the items' outputs into one result; `nil` for a job whose result
    /// is its items (see ``ReduceStep``).
    public var reduce: ReduceStep?
    /// The most reply tokens an item's call may be given when replies cut empty at their limit
    /// are asked again with a larger one (see ``ReplyBudget``).
    public var maxReplyTokens: Int
    /// How the job's calls are bought (see ``Tier``).
    public var tier: Tier
    /// How long after its creation the job must be done, in seconds (see ``JobDeadline``).
    public var deadlineSeconds: Double?
    /// Which of its owner's jobs runs first (see ``JobPriority``).
    public var priority: JobPriority
    /// Columns whose values are images (an http(s) URL or a `data:` URI): each row's go after
    /// its prompt's text, in this order.
    public var images: [String]
    /// OpenAI's `detail` for those images (`low`, `high` or `auto`); nil leaves it to the provider.
    public var imageDetail: String?
    /// Functions the model answers each item by calling: the output is the call's arguments.
    public var tools: JobTools?
    /// Columns whose cells name documents in a zip upload (PDF or text): each row's field
    /// becomes the document's text as the row is read.
    public var documents: [String]

    public static let defaultProvider = "builtin"
    public static let defaultModel = "sluice-offline"
    /// The `provider` that picks each call's provider from its model name through the
    /// configured routes (how the Batch API sends each line where its `model` belongs).
    public static let routedProvider = "auto"
    static let fieldNames: Set<String> = [
        "name", "preset", "input", "system", "template", "output_schema", "provider", "model", "params", "batch_size",
        "items_per_request", "group_by", "max_attempts", "fields", "cache", "budget", "failure_brake", "vars",
        "reduce", "max_reply_tokens", "tier", "deadline", "priority", "images", "image_detail", "tools", "tool_choice", "documents",
    ]

    /// Resolves a spec from its JSON form; `preset` looks up a preset's JSON by name. A spec
    /// that names no provider gets `defaultProvider`, and one that names no model gets
    /// `defaultModel(provider)`.
    public static func parse(
        _ json: JSONValue, preset lookup: (String) -> JSONValue?, defaultProvider: String = JobSpec.defaultProvider,
        defaultModel: (String) -> String = { _ in JobSpec.defaultModel }
    ) throws(SpecError) -> JobSpec {
        guard case .object(var object) = json else { throw SpecError(field: "spec", message: "the spec must be a JSON object") }
        if let presetName = object["preset"] {
            guard let name = presetName.stringValue else { throw SpecError(field: "preset", message: "must be a string") }
            guard case .object(let base)? = lookup(name) else {
                throw SpecError(field: "preset", message: "unknown preset '\(name)'")
            }
            object = merge(base: base, overrides: object)
        }
        for key in object.keys where !fieldNames.contains(key) {
            throw SpecError(field: key, message: "unknown spec field")
        }
        try applyFieldNames(to: &object)
        if object["provider"] == nil || object["provider"] == .null { object["provider"] = .string(defaultProvider) }
        if object["model"] == nil || object["model"] == .null, let provider = object["provider"]?.stringValue {
            object["model"] = .string(defaultModel(provider))
        }
        return try JobSpec(object)
    }

    /// Points the template's placeholders and `group_by` at differently named columns: `fields`
    /// maps a name the template (or preset) uses to the column that holds it, so a preset reads
    /// a file as it is. Applied once here — the resolved spec names the real columns — and a
    /// name nothing uses is refused, since a typo there would otherwise change nothing.
    static func applyFieldNames(to object: inout JSONObject) throws(SpecError) {
        guard let raw = object["fields"] else { return }
        object["fields"] = nil
        guard raw != .null else { return }
        guard case .object(let members) = raw else {
            throw SpecError(field: "fields", message: "must be an object mapping a field name to the column that holds it")
        }
        var columns: [String: String] = [:]
        for member in members {
            guard let column = member.value.stringValue, !column.isEmpty else {
                throw SpecError(field: "fields.\(member.key)", message: "must be a column name")
            }
            columns[member.key] = column
        }
        guard !columns.isEmpty else { return }
        var used: Set<String> = []
        if let source = object["template"]?.stringValue {
            let template = try PromptTemplate(source)
            for name in template.fields + template.optionalFields {
                used.insert(name)
                used.insert(String(name.split(separator: ".")[0]))
            }
            object["template"] = .string(template.renamingFields(columns).source)
        }
        if let groupBy = object["group_by"]?.stringValue {
            used.insert(groupBy)
            if let column = columns[groupBy] { object["group_by"] = .string(column) }
        }
        for name in columns.keys.sorted() where !used.contains(name) {
            let known = used.sorted().joined(separator: ", ")
            throw SpecError(field: "fields.\(name)", message: "the spec uses no field '\(name)' (it uses: \(known))")
        }
    }

    /// `NAME=VALUE` — one `fields` entry (`--field`, the API's `field`) or one `vars` entry
    /// (`--var`, `var`) — split at its first `=`; `nil` when either side is empty.
    public static func assignment(_ text: String) -> (name: String, value: String)? {
        guard let equals = text.firstIndex(of: "=") else { return nil }
        let name = text[..<equals].trimmingCharacters(in: .whitespaces)
        let column = text[text.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        return name.isEmpty || column.isEmpty ? nil : (name, column)
    }

    /// Explicit fields replace the preset's; `input` and `params` merge member by member.
    public static func merge(base: JSONObject, overrides: JSONObject) -> JSONObject {
        var merged = base
        for member in overrides {
            if case .object(let inner)? = merged[member.key], case .object(let override) = member.value,
                ["input", "params", "fields", "vars"].contains(member.key)
            {
                merged[member.key] = .object(merge(base: inner, overrides: override))
            } else {
                merged[member.key] = member.value
            }
        }
        return merged
    }

    init(_ object: JSONObject) throws(SpecError) {
        func string(_ key: String) throws(SpecError) -> String? {
            guard let value = object[key], value != .null else { return nil }
            guard let text = value.stringValue else { throw SpecError(field: key, message: "must be a string") }
            return text
        }
        func integer(_ key: String, default value: Int, range: ClosedRange<Int>) throws(SpecError) -> Int {
            guard let raw = object[key], raw != .null else { return value }
            guard let number = raw.intValue, range.contains(number) else {
                throw SpecError(field: key, message: "must be an integer from \(range.lowerBound) to \(range.upperBound)")
            }
            return number
        }
        name = try string("name")
        preset = try string("preset")
        input = try InputOptions(object["input"] ?? .null)
        system = try string("system")
        if let format = input.format, format.carriesRequests {
            guard object["template"] == nil || object["template"] == .null else {
                throw SpecError(field: "template", message: "\(format.rawValue) input carries its own messages; leave the template out")
            }
            template = nil
        } else {
            guard let templateText = try string("template"), !templateText.isEmpty else {
                throw SpecError(field: "template", message: "a prompt template is required (or a preset that has one)")
            }
            template = try PromptTemplate(templateText)
        }
        if let schema = object["output_schema"], schema != .null {
            outputSchema = try OutputSchema(schema)
        }
        provider = try string("provider") ?? Self.defaultProvider
        model = try string("model") ?? Self.defaultModel
        switch object["params"] {
        case nil, .null?: params = JSONObject()
        case .object(let members)?: params = try ModelParams.checked(members, allowed: ModelParams.chat, field: "params")
        default: throw SpecError(field: "params", message: "must be an object")
        }
        batchSize = try integer("batch_size", default: 100, range: 1...10_000)
        itemsPerRequest = try integer("items_per_request", default: 1, range: 1...100)
        groupBy = try string("group_by")
        maxAttempts = try integer("max_attempts", default: 5, range: 1...100)
        maxReplyTokens = try integer("max_reply_tokens", default: ReplyBudget.defaultCap, range: 1...1_000_000)
        tier = try Tier.parse(object["tier"])
        priority = try JobPriority.parse(object["priority"])
        deadlineSeconds = try JobDeadline.parse(object["deadline"])
        for key in ["max_tokens", "max_completion_tokens"] {
            if let limit = params[key]?.intValue, limit > maxReplyTokens {
                throw SpecError(
                    field: "params.\(key)", message: "is above max_reply_tokens (\(maxReplyTokens)); raise max_reply_tokens or lower it")
            }
        }
        switch object["cache"] {
        case nil, .null?: cache = true
        case .bool(let on)?: cache = on
        default: throw SpecError(field: "cache", message: "must be true or false")
        }
        budget = try Budget(object["budget"] ?? .null)
        failureBrake = try FailureBrake.parse(object["failure_brake"])
        switch object["vars"] {
        case nil, .null?: vars = JSONObject()
        case .object(let members)?: vars = members
        default: throw SpecError(field: "vars", message: "must be an object of values the templates may use")
        }
        /// A member naming columns: one name, or a list of up to 20.
        func columns(_ key: String) throws(SpecError) -> [String] {
            switch object[key] {
            case nil, .null?: return []
            case .string(let column)?: return [column]
            case .array(let columns)? where columns.allSatisfy({ $0.stringValue?.isEmpty == false }) && columns.count <= 20:
                return columns.compactMap(\.stringValue)
            default: throw SpecError(field: key, message: "must be a column name or a list of up to 20 column names")
            }
        }
        images = try columns("images")
        imageDetail = try string("image_detail")
        documents = try columns("documents")
        if let shared = documents.first(where: images.contains) {
            throw SpecError(field: "documents", message: "column '\(shared)' cannot be both an image and a document")
        }
        if let imageDetail, !["low", "high", "auto"].contains(imageDetail) {
            throw SpecError(field: "image_detail", message: "must be low, high or auto")
        }
        tools = try JobTools.parse(object["tools"], choice: object["tool_choice"])
        if tools != nil, template == nil {
            throw SpecError(field: "tools", message: "requests given whole carry their own tools in their bodies")
        }
        if tools != nil, outputSchema != nil {
            throw SpecError(
                field: "output_schema",
                message: "a job with tools answers with a tool's arguments, checked by its parameters: leave output_schema out")
        }
        if let tools, tools.definitions.count > 1, itemsPerRequest > 1 {
            throw SpecError(
                field: "items_per_request", message: "packed rows answer through one tool: use items_per_request 1 with several tools")
        }
        reduce = try ReduceStep.parse(object["reduce"] ?? .null)
        if reduce != nil, template == nil {
            throw SpecError(field: "reduce", message: "requests given whole have nothing to reduce")
        }
        if template == nil, itemsPerRequest > 1 || groupBy != nil {
            throw SpecError(field: "input.format", message: "openai_batch requests run one by one: no items_per_request or group_by")
        }
        if !documents.isEmpty, template == nil {
            throw SpecError(field: "documents", message: "requests given whole carry their own documents in their messages")
        }
        if !images.isEmpty, template == nil {
            throw SpecError(field: "images", message: "requests given whole carry their own images in their messages")
        }
        if !images.isEmpty, itemsPerRequest > 1 {
            throw SpecError(field: "items_per_request", message: "rows with images run one a call: use items_per_request 1 with images")
        }
        if groupBy != nil, itemsPerRequest > 1 {
            throw SpecError(
                field: "items_per_request",
                message: "grouped items run one at a time with their history; use items_per_request 1 with group_by")
        }
    }

    /// The resolved spec in its JSON form; parsing it again gives an equal spec.
    public var json: JSONValue {
        var object = JSONObject()
        if let name { object["name"] = .string(name) }
        if let preset { object["preset"] = .string(preset) }
        object["input"] = input.json
        if let system { object["system"] = .string(system) }
        if let template { object["template"] = .string(template.source) }
        if let outputSchema { object["output_schema"] = outputSchema.json }
        object["provider"] = .string(provider)
        object["model"] = .string(model)
        object["params"] = .object(params)
        object["batch_size"] = .int(batchSize)
        object["items_per_request"] = .int(itemsPerRequest)
        if let groupBy { object["group_by"] = .string(groupBy) }
        object["max_attempts"] = .int(maxAttempts)
        object["max_reply_tokens"] = .int(maxReplyTokens)
        object["tier"] = .string(tier.rawValue)
        object["priority"] = .string(priority.rawValue)
        if let deadlineSeconds { object["deadline"] = .string(JobDeadline.text(deadlineSeconds)) }
        object["cache"] = .bool(cache)
        if let budget { object["budget"] = budget.json }
        object["failure_brake"] = failureBrake?.json ?? .bool(false)
        if !vars.isEmpty { object["vars"] = .object(vars) }
        if let reduce { object["reduce"] = reduce.json }
        if !images.isEmpty { object["images"] = .array(images.map { .string($0) }) }
        if let imageDetail { object["image_detail"] = .string(imageDetail) }
        if !documents.isEmpty { object["documents"] = .array(documents.map { .string($0) }) }
        if let tools {
            object["tools"] = tools.json.tools
            object["tool_choice"] = tools.json.choice
        }
        return .object(object)
    }

    /// Reads back a spec stored by ``json``; presets are already folded in.
    public init(stored json: JSONValue) throws(SpecError) {
        guard case .object(var object) = json else { throw SpecError(field: "spec", message: "the spec must be a JSON object") }
        object["preset"] = nil
        try self.init(object)
        preset = json["preset"]?.stringValue
    }
}
