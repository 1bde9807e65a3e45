public import SluiceCore

/// The model call for one item: the request its line carries when the spec has no template
/// (a batch file's line), else the template's prompt (``PromptBuilder``).
public enum ItemRequest {
    public static func build(
        spec: JobSpec, input: JSONObject, history: [PromptBuilder.Turn] = [], previousError: String? = nil,
        files: [String: ImagePart.Source]? = nil
    ) throws(SpecError) -> ModelRequest {
        guard spec.template != nil else { return try RequestLine.modelRequest(from: input) }
        return try PromptBuilder(spec: spec).request(for: input, history: history, previousError: previousError, files: files)
    }
}
