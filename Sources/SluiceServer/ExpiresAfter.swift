import SluiceCore

/// OpenAI's `expires_after` (`{"anchor": "created_at", "seconds": N}`) on files, uploads and a
/// batch's output: from an hour to thirty days after the anchor.
enum ExpiresAfter {
    static let seconds = 3600...2_592_000

    /// From a JSON body's member; `nil` when absent.
    static func parse(_ value: JSONValue?, param: String) throws -> Int? {
        guard let value, value != .null else { return nil }
        guard case .object(let fields) = value else {
            throw APIError.badRequest("\(param) must be an object with anchor and seconds", param: param)
        }
        return try check(anchor: fields["anchor"]?.stringValue, seconds: fields["seconds"].map(JSONWriter.string), param: param)
    }

    /// From form fields (`expires_after[anchor]`, `expires_after[seconds]`); `nil` when both are absent.
    static func parse(anchor: String?, seconds: String?, param: String) throws -> Int? {
        if anchor == nil, seconds == nil { return nil }
        return try check(anchor: anchor, seconds: seconds, param: param)
    }

    static func check(anchor: String?, seconds: String?, param: String) throws -> Int {
        guard anchor == "created_at" else { throw APIError.badRequest("\(param).anchor must be created_at", param: param + ".anchor") }
        guard let text = seconds, let value = Int(text), Self.seconds.contains(value) else {
            throw APIError.badRequest(
                "\(param).seconds must be an integer from \(Self.seconds.lowerBound) to \(Self.seconds.upperBound)",
                param: param + ".seconds")
        }
        return value
    }
}
