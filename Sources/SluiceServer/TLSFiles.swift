import Foundation
import SluiceCore

/// The PEM files `sluice serve --tls-cert FILE --tls-key FILE` serves HTTPS with.
public struct TLSFiles: Sendable, Equatable {
    /// The certificate, followed by any intermediates.
    public var certificateChain: String
    public var privateKey: String

    public init(certificateChain: String, privateKey: String) {
        self.certificateChain = certificateChain
        self.privateKey = privateKey
    }
}
