import Foundation
import SluiceCore

/// A throwaway certificate for 127.0.0.1 and its key, made by `openssl` (which the test script
/// installs) in `directory`: what the TLS tests serve and trust.
public struct SelfSignedCertificate: Sendable {
    public let certificate: String
    public let key: String

    public init(in directory: TemporaryDirectory, name: String = "server") async throws {
        certificate = directory.path("\(name).pem")
        key = directory.path("\(name)-key.pem")
        let openssl = try ChildProcess(
            "/usr/bin/openssl",
            arguments: [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", key, "-out", certificate,
            ], errors: .pipe)
        let said = try await openssl.readErrors()
        guard try await openssl.exited() == .exited(0) else { throw CertificateError(description: "openssl failed: \(said)") }
    }
}

public struct CertificateError: Error, CustomStringConvertible {
    public var description: String
}
