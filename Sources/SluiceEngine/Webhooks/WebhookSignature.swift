import Crypto
import Foundation

/// Standard Webhooks signing (`webhook-id`, `webhook-timestamp`, `webhook-signature`), which the
/// official OpenAI SDK's `client.webhooks.unwrap` verifies: an HMAC-SHA256, keyed by the
/// secret's base64 bytes, over `id.timestamp.payload`, sent as `v1,<base64>`.
public enum WebhookSignature {
    /// A new endpoint secret: `whsec_` and the base64 of 32 random bytes.
    public static func makeSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return "whsec_" + Data((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }).base64EncodedString()
    }

    /// The `webhook-signature` value for one try of a delivery.
    public static func sign(id: String, timestamp: Int, payload: String, secret: String) -> String {
        let keyBytes = Data(base64Encoded: String(secret.dropFirst(secret.hasPrefix("whsec_") ? 6 : 0))) ?? Data(secret.utf8)
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(id).\(timestamp).\(payload)".utf8), using: SymmetricKey(data: keyBytes))
        return "v1," + Data(mac).base64EncodedString()
    }
}
