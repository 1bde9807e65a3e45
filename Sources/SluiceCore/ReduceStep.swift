/// Combines a job's outputs into one result: the reduce of a map-then-reduce job.
///
/// Every item is first answered on its own (the map, with the spec's template). When the map
/// is done, the succeeded outputs are handed to this step's template as `{{parts}}` (a JSON
/// array, in input order) — as many per call as fit in ``maxChars``, and when they do not all
/// fit one call, the step runs again over its own outputs, in rounds, until one call has
/// combined everything. That single output is the job's result.
///
/// The same template and schema serve every round, so they must combine either kind of part:
/// the map's, or earlier rounds' combined results (say so in the prompt).
public struct ReduceStep: Sendable, Equatable {
    public var template: PromptTemplate
    public var system: String?
    public var outputSchema: OutputSchema?
    /// Model parameters for the step's calls; the spec's `params` fill what it leaves out.
    public var params: JSONObject
    /// The most characters of parts in one call.
    public var maxChars: Int

    public static let defaultMaxChars = 24_000
    /// The field the parts are given in.
    public static let partsField = "parts"

    public init(
        template: PromptTemplate, system: String? = nil, outputSchema: OutputSchema? = nil, params: JSONObject = JSONObject(),
        maxChars: Int = ReduceStep.defaultMaxChars
    ) {
        self.template = template
        self.system = system
        self.outputSchema = outputSchema
        self.params = params
        self.maxChars = maxChars
    }

    static func parse(_ json: JSONValue) throws(SpecError) -> ReduceStep? {
        guard json != .null else { return nil }
        guard case .object(let object) = json else {
            throw SpecError(field: "reduce", message: "must be an object with a template that uses {{parts}}")
        }
        for key in object.keys where !["template", "system", "output_schema", "params", "max_chars"].contains(key) {
            throw SpecError(
                field: "reduce.\(key)", message: "unknown reduce setting (known: template, system, output_schema, params, max_chars)")
        }
        guard let source = object["template"]?.stringValue, !source.isEmpty else {
            throw SpecError(field: "reduce.template", message: "a reduce step needs a template")
        }
        let template: PromptTemplate
        do {
            template = try PromptTemplate(source)
        } catch {
            throw SpecError(field: "reduce.template", message: error.message)
        }
        guard template.fields.contains(partsField) else {
            throw SpecError(field: "reduce.template", message: "the reduce template must use {{\(partsField)}}, the outputs it combines")
        }
        var step = ReduceStep(template: template)
        if let system = object["system"], system != .null {
            guard let text = system.stringValue else { throw SpecError(field: "reduce.system", message: "must be a string") }
            step.system = text
        }
        if let schema = object["output_schema"], schema != .null {
            do {
                step.outputSchema = try OutputSchema(schema)
            } catch {
                throw SpecError(field: "reduce.output_schema", message: error.message)
            }
        }
        switch object["params"] {
        case nil, .null?: break
        case .object(let members)?: step.params = members
        default: throw SpecError(field: "reduce.params", message: "must be an object")
        }
        if let raw = object["max_chars"], raw != .null {
            guard let chars = raw.intValue, (1000...1_000_000).contains(chars) else {
                throw SpecError(field: "reduce.max_chars", message: "must be an integer from 1000 to 1000000")
            }
            step.maxChars = chars
        }
        return step
    }

    public var json: JSONValue {
        var object = JSONObject()
        object["template"] = .string(template.source)
        if let system { object["system"] = .string(system) }
        if let outputSchema { object["output_schema"] = outputSchema.json }
        if !params.isEmpty { object["params"] = .object(params) }
        object["max_chars"] = .int(maxChars)
        return .object(object)
    }

    /// Splits parts (by their size in characters, in order) into calls: as many as fit in
    /// `maxChars` each, but never one alone while others remain — so every round has fewer
    /// calls than the last had parts, and the rounds always end.
    public static func groups(sizes: [Int], maxChars: Int) -> [Range<Int>] {
        guard sizes.count > 1 else { return sizes.isEmpty ? [] : [0..<1] }
        var groups: [Range<Int>] = []
        var start = 0
        var used = 0
        for (index, size) in sizes.enumerated() {
            let count = index - start
            if count >= 2, used + size > maxChars {
                groups.append(start..<index)
                start = index
                used = 0
            }
            used += size
        }
        groups.append(start..<sizes.count)
        // A last call with one part joins the one before it.
        if groups.count > 1, groups[groups.count - 1].count == 1 {
            let last = groups.removeLast()
            groups[groups.count - 1] = groups[groups.count - 1].lowerBound..<last.upperBound
        }
        return groups
    }
}

extension JobSpec {
    /// The spec a reduce call runs with: the step's template, system prompt, schema and
    /// params, one item per call, no groups.
    public var reducing: JobSpec? {
        guard let reduce else { return nil }
        var spec = self
        spec.template = reduce.template
        spec.system = reduce.system
        spec.outputSchema = reduce.outputSchema
        spec.params = JobSpec.merge(base: params, overrides: reduce.params)
        spec.itemsPerRequest = 1
        spec.groupBy = nil
        return spec
    }
}
