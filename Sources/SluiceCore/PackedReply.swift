/// A packed call's reply, matched to its rows by key — never by position.
///
/// A model answering fifty rows at once drops one, repeats another, swaps two keys or
/// invents a key; matching by position would then give a row its neighbour's answer. Here a
/// row gets an answer only when exactly one entry carries its key and that entry's output is
/// valid; every other row gets the reason, and the engine sends it again in a smaller pack.
public struct PackedReply: Sendable, Equatable {
    /// Each requested key's validated output, or why it has none.
    public var answers: [String: Result<JSONValue, ReplyDecoder.Rejection>]
    /// Keys the reply used that no row of the call has.
    public var unknownKeys: [String]

    /// Decodes `text` for the rows `keys`, with each output checked by `decoder`.
    public init(text: String, keys: [String], decoder: ReplyDecoder) {
        let wanted = Set(keys)
        var entries: [String: [JSONValue]] = [:]
        var unknown: [String] = []
        var problem: ReplyDecoder.Rejection?
        switch ReplyDecoder.parseJSON(text) {
        case .failure(let rejection): problem = rejection
        case .success(let wrapper):
            if case .array(let results)? = wrapper["results"] {
                for entry in results {
                    guard let key = entry["key"]?.stringValue ?? entry["key"]?.intValue.map({ String($0) }) else { continue }
                    guard wanted.contains(key) else {
                        unknown.append(key)
                        continue
                    }
                    entries[key, default: []].append(entry["output"] ?? .null)
                }
            } else {
                problem = ReplyDecoder.Rejection(message: "the reply must be an object with a \"results\" array")
            }
        }
        unknownKeys = unknown
        var answers: [String: Result<JSONValue, ReplyDecoder.Rejection>] = [:]
        for key in keys {
            if let problem {
                answers[key] = .failure(problem)
                continue
            }
            let given = entries[key] ?? []
            if given.isEmpty {
                answers[key] = .failure(ReplyDecoder.Rejection(message: "the reply did not answer row \(key)"))
            } else if given.count > 1 {
                answers[key] = .failure(ReplyDecoder.Rejection(message: "the reply answered row \(key) \(given.count) times"))
            } else if given[0] == .null {
                answers[key] = .failure(ReplyDecoder.Rejection(message: "the reply gave row \(key) no \"output\""))
            } else {
                answers[key] = decoder.decodeEntry(given[0]).mapError { ReplyDecoder.Rejection(message: "row \(key): \($0.message)") }
            }
        }
        self.answers = answers
    }

    /// The pack a row goes in after the reply failed it: half the size it was just in, down to
    /// one row per call (where an item's ordinary retries take over).
    public static func smallerPack(after size: Int) -> Int { max(1, size / 2) }
}
