import Foundation
import SluiceCore

/// How the providers bill a prompt's images: by their size, under the published rule (OpenAI's
/// tiles, Anthropic's pixels), never by the length of their base64 — so a token limit binds on
/// an image-heavy job as it would at the provider.
enum FakeImageTokens {
    /// `messages` with every image part taken out, and the tokens those images cost.
    static func split(_ messages: JSONValue?, anthropic: Bool) -> (text: JSONValue?, imageTokens: Int) {
        guard case .array(let list)? = messages else { return (messages, 0) }
        var tokens = 0
        let kept: [JSONValue] = list.map { message in
            guard case .object(let object) = message, case .array(let parts)? = object["content"] else { return message }
            let text = parts.filter { part in
                guard let cost = cost(of: part, anthropic: anthropic) else { return true }
                tokens += cost
                return false
            }
            return .object(object.with("content", .array(text)))
        }
        return (.array(kept), tokens)
    }

    /// An image part's tokens; nil for any other part.
    static func cost(of part: JSONValue, anthropic: Bool) -> Int? {
        let rule: ImageTokens.Rule = anthropic ? .pixels : .tiles
        switch part["type"]?.stringValue {
        case "image_url":
            let url = part["image_url"]?["url"]?.stringValue ?? ""
            let low = part["image_url"]?["detail"]?.stringValue == "low"
            let probe =
                url.hasPrefix("data:")
                ? url.split(separator: ",", maxSplits: 1).last.flatMap { Data(base64Encoded: String($0)) }.flatMap(ImageProbe.init) : nil
            return ImageTokens.estimate(width: probe?.width, height: probe?.height, rule: rule, lowDetail: low)
        case "image":
            let source = part["source"]
            let probe =
                source?["type"]?.stringValue == "base64"
                ? source?["data"]?.stringValue.flatMap { Data(base64Encoded: $0) }.flatMap(ImageProbe.init) : nil
            return ImageTokens.estimate(width: probe?.width, height: probe?.height, rule: rule)
        default: return nil
        }
    }
}
