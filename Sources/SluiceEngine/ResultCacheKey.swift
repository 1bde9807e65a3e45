import Crypto
import Foundation
import SluiceCore

/// Names a request in the result cache: the SHA-256 of everything that decides the answer —
/// provider, model, system prompt, messages (a group's history included), parameters and
/// output schema — in one canonical JSON text, and of the scope the answer may be served in
/// (its owner's, unless the configuration shares entries; see ``CacheSettings``). Two requests
/// share a key only when a model would see exactly the same call for the same scope.
enum ResultCacheKey {
    static func of(_ request: ModelRequest, provider: String, scope: String) -> String {
        let canonical: JSONValue = [
            "scope": .string(scope), "provider": .string(provider), "model": .string(request.model),
            "system": request.system.map(JSONValue.string) ?? .null,
            "messages": .array(request.messages.map { ["role": .string($0.role.rawValue), "content": .string($0.content)] }),
            "params": .object(JSONObject(request.params.sorted { $0.key < $1.key })),
            "schema": request.outputSchema?.json ?? .null,
        ]
        let digest = SHA256.hash(data: Data(JSONWriter.string(canonical).utf8))
        return digest.map { String(format: "%02x", $0) }.joined()
    }
}
