import Crypto
import Foundation
import SluiceCore

/// Names a request in the result cache: the SHA-256 of everything that decides the answer —
/// provider, model, system prompt, messages (a group's history included), parameters and
/// output schema — and of the scope the answer may be served in (its owner's, unless the
/// configuration shares entries; see ``CacheSettings``). Two requests share a key only when a
/// model would see exactly the same call for the same scope.
///
/// Each part goes into the hash as it is, after its length, so no two different requests
/// hash the same text — without writing a canonical JSON document first, which cost more than
/// the hash.
enum ResultCacheKey {
    /// Changes when what the key covers (or how) changes: old entries simply stop matching.
    static let version = "sluice-cache-2"

    static func of(_ request: ModelRequest, provider: String, scope: String) -> String {
        var hasher = SHA256()
        func add(_ text: String) {
            var text = text
            var length = UInt64(text.utf8.count).littleEndian
            withUnsafeBytes(of: &length) { hasher.update(bufferPointer: $0) }
            text.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        }
        add(version)
        add(scope)
        add(provider)
        add(request.model)
        add(request.system.map { "1" + $0 } ?? "0")
        add(String(request.messages.count))
        for message in request.messages {
            add(message.role.rawValue)
            add(message.content)
        }
        add(request.params.isEmpty ? "" : JSONWriter.string(.object(JSONObject(request.params.sorted { $0.key < $1.key }))))
        add(request.outputSchema.map { JSONWriter.string($0.json) } ?? "")
        return hex(hasher.finalize())
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
