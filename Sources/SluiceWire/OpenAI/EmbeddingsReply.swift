public import SluiceCore

/// A `/v1/embeddings` reply: one float vector per input text, each with the `index` of its
/// text. Read from a provider, and written into a batch's output file for a succeeded line.
public struct EmbeddingsReply: Codable, Sendable, Equatable {
    struct Entry: Codable, Sendable, Equatable {
        var index: Int?
        var embedding: [Double]

        enum CodingKeys: String, CodingKey {
            case object, index, embedding
        }

        init(index: Int, embedding: [Double]) {
            self.index = index
            self.embedding = embedding
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            index = try container.decodeIfPresent(Int.self, forKey: .index)
            embedding = try container.decode([Double].self, forKey: .embedding)
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode("embedding", forKey: .object)
            try container.encode(index, forKey: .index)
            try container.encode(embedding, forKey: .embedding)
        }
    }

    var data: [Entry]
    public var model: String?
    var reportedUsage: OpenAIUsage?

    enum CodingKeys: String, CodingKey {
        case object, data, model
        case reportedUsage = "usage"
    }

    /// The list a batch's output file gives for `vectors`, in the order of their texts.
    public init(vectors: [[Double]], model: String, usage: TokenUsage) {
        data = vectors.enumerated().map { Entry(index: $0.offset, embedding: $0.element) }
        self.model = model
        reportedUsage = OpenAIUsage(TokenUsage(promptTokens: usage.promptTokens, completionTokens: 0), hasCompletion: false)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        data = try container.decode([Entry].self, forKey: .data)
        reportedUsage = try? container.decodeIfPresent(OpenAIUsage.self, forKey: .reportedUsage)
        model = try? container.decodeIfPresent(String.self, forKey: .model)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("list", forKey: .object)
        try container.encode(data, forKey: .data)
        try container.encode(model, forKey: .model)
        try container.encode(reportedUsage ?? OpenAIUsage(usage, hasCompletion: false), forKey: .reportedUsage)
    }

    public var usage: TokenUsage { TokenUsage(promptTokens: reportedUsage?.tokens.promptTokens ?? 0) }

    /// The vectors in the order of the `count` texts asked for, put back by each entry's
    /// `index` (its position when it has none); refused when one is missing, repeated or empty.
    public func vectors(count: Int) throws(WireError) -> [[Double]] {
        guard data.count == count else { throw WireError(path: [.key("data")], message: "does not hold \(count) embeddings") }
        var vectors = [[Double]](repeating: [], count: count)
        for (position, entry) in data.enumerated() {
            let index = entry.index ?? position
            guard vectors.indices.contains(index), !entry.embedding.isEmpty else {
                throw WireError(path: [.key("data"), .index(position)], message: "has no index in range or no float vector")
            }
            vectors[index] = entry.embedding
        }
        guard vectors.allSatisfy({ !$0.isEmpty }) else { throw WireError(path: [.key("data")], message: "repeats an embedding index") }
        return vectors
    }
}
