import SluiceCore

/// One line of an OpenAI Batch API input file: `{"custom_id", "method", "url", "body"}`.
struct OpenAIBatchLine: Decodable, Sendable, Equatable {
    var customID: String
    var url: String
    var body: JSONObject

    enum CodingKeys: String, CodingKey {
        case customID = "custom_id"
        case method, url, body
    }

    /// Refusals name OpenAI's error code, chosen by the field at fault (``code(for:)``).
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard let customID = try? container.decode(String.self, forKey: .customID), !customID.isEmpty else {
            throw WireError(at: [CodingKeys.customID], "custom_id must be a non-empty string")
        }
        self.customID = customID
        guard (try? container.decode(String.self, forKey: .method)) == "POST" else {
            throw WireError(at: [CodingKeys.method], "method must be POST")
        }
        guard let url = try? container.decode(String.self, forKey: .url) else {
            throw WireError(at: [CodingKeys.url], "url must be a string")
        }
        self.url = url
        guard let body = try? container.decode(JSONObject.self, forKey: .body) else {
            throw WireError(at: [CodingKeys.body], "body must be an object")
        }
        self.body = body
    }

    /// OpenAI's error code for a line refused at `field`.
    static func code(for field: WireError.Step?) -> String {
        switch field {
        case .key("method")?: "invalid_method"
        case .key("url")?: "invalid_url"
        default: "missing_required_parameter"
        }
    }
}
