import SluiceCore

/// libFuzzer target for prompt templates (scripts/fuzz.sh template): any text either parses or
/// is refused with a `SpecError` — never a crash or a stack overflow, however deep its sections
/// nest — and a template that parses renders a record of every field it names.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTemplate(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
    guard let template = try? PromptTemplate(text) else { return 0 }
    var fields = JSONObject()
    for name in template.fields + template.optionalFields where name != PromptTemplate.wholeRecord {
        fields[String(name.split(separator: ".").first ?? "")] = .string("v")
    }
    _ = try? template.render(fields)
    return 0
}
