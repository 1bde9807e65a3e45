import SluiceCore

/// One request of a Message Batch: `{"custom_id", "params"}` and nothing else.
struct MessageBatchRequest: Decodable, Sendable, Equatable {
    var customID: String
    var params: JSONObject

    enum CodingKeys: String, CodingKey, CaseIterable {
        case customID = "custom_id"
        case params
    }

    /// Anthropic's rules for a `custom_id`: 1 to 64 letters, digits, `-` and `_`.
    static func isValid(customID: String) -> Bool {
        (1...64).contains(customID.count)
            && customID.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    init(from decoder: any Decoder) throws {
        if let unknown = try ChatRequest.others(in: decoder, besides: CodingKeys.self).keys.first {
            throw WireError(at: [JSONKey(stringValue: unknown)], "Extra inputs are not permitted")
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard let customID = try? container.decode(String.self, forKey: .customID), Self.isValid(customID: customID) else {
            throw WireError(at: [CodingKeys.customID], "custom_id must be 1 to 64 characters of letters, digits, '-' and '_'")
        }
        self.customID = customID
        guard let params = try? container.decode(JSONObject.self, forKey: .params) else {
            throw WireError(at: [CodingKeys.params], "params must be an object")
        }
        self.params = params
    }
}
