public import SluiceCore

/// A `/v1/embeddings` request: `input` a string or an array of strings (token arrays and
/// base64 output are not offered). What an OpenAI batch line's body holds, and what the
/// OpenAI-compatible provider sends.
public struct EmbeddingsRequest: Codable, Sendable, Equatable {
    /// OpenAI's limit on the texts of one request.
    static let maximumInputs = 2048

    var model: String
    var input: [String]
    /// Always `float` when sent; base64 is refused in a batch line.
    var encodingFormat: String?
    var dimensions: Int?
    var user: JSONValue?

    enum CodingKeys: String, CodingKey {
        case model, input
        case encodingFormat = "encoding_format"
        case dimensions, user
    }

    /// The body the provider sends: every text of the call, as floats, with the call's
    /// parameters (``ModelParams/embeddings``).
    public init(texts: [String], request: ModelRequest) {
        model = request.model
        input = texts
        encodingFormat = "float"
        dimensions = request.params["dimensions"]?.intValue
        user = request.params["user"]
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try ChatRequest.model(container.decodeIfPresent(String.self, forKey: .model), in: container.codingPath)
        let inputPath = container.codingPath + [CodingKeys.input]
        let bounds = "must be a string or an array of 1 to \(Self.maximumInputs) strings"
        if let text = try? container.decode(String.self, forKey: .input) {
            input = [text]
        } else {
            guard var list = try? container.nestedUnkeyedContainer(forKey: .input), let count = list.count,
                (1...Self.maximumInputs).contains(count)
            else { throw WireError(at: inputPath, bounds) }
            input = []
            while !list.isAtEnd {
                guard let text = try? list.decode(String.self) else {
                    throw WireError(at: inputPath + [JSONKey(intValue: input.count)], "must be a string (token arrays are not supported)")
                }
                input.append(text)
            }
        }
        if let empty = input.firstIndex(of: "") { throw WireError(at: inputPath + [JSONKey(intValue: empty)], "must not be empty") }
        encodingFormat = try container.decodeIfPresent(String.self, forKey: .encodingFormat)
        if let encodingFormat, encodingFormat != "float" {
            throw WireError(at: container.codingPath + [CodingKeys.encodingFormat], "only \"float\" is supported")
        }
        dimensions = try? container.decodeIfPresent(Int.self, forKey: .dimensions)
        if container.contains(.dimensions), try !container.decodeNil(forKey: .dimensions), !(1...4096).contains(dimensions ?? 0) {
            throw WireError(at: container.codingPath + [CodingKeys.dimensions], "must be an integer from 1 to 4096")
        }
        user = try container.decodeIfPresent(JSONValue.self, forKey: .user)
    }

    /// The provider-neutral call a batch line's body asks for: one vector per text.
    public static func modelRequest(body: JSONObject) throws(SpecError) -> ModelRequest {
        let request: Self
        do { request = try WireDecoder.decode(Self.self, from: .object(body)) } catch { throw error.specError(bracketed: true) }
        var params = JSONObject()
        if let dimensions = request.dimensions { params["dimensions"] = .int(dimensions) }
        if let user = request.user, user != .null { params["user"] = user }
        return ModelRequest(
            model: request.model, system: nil, messages: request.input.map { ChatMessage(role: .user, content: $0) }, params: params,
            outputSchema: nil, inputs: request.input.map { JSONObject([("content", .string($0))]) }, operation: .embeddings(request.input))
    }
}
