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
        var bytes: [UInt8] = []
        JSONWriter.write(canonical, to: &bytes)
        return hex(SHA256.hash(data: bytes))
    }

    /// Lower-case hex, written byte by byte: `String(format:)` per byte cost more than the hash.
    static func hex(_ digest: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(64)
        for byte in digest {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
