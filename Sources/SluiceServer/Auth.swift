import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SluiceCore
import SluiceStore

/// Whether requests need an API key.
public enum AuthMode: String, Sendable, CaseIterable {
    /// Every request but health, readiness, metrics and the API description needs a key.
    case required
    /// One local user, no keys: only allowed on a loopback address.
    case off
}

extension Principal {
    init(_ key: APIKeyRecord) { self.init(user: key.user, isAdmin: key.isAdmin, keyID: key.id) }
}
