import Foundation

/// A throwaway certificate for 127.0.0.1 and its key, made by `openssl` (which the test script
/// installs) in `directory`: what the TLS tests serve and trust.
public struct SelfSignedCertificate: Sendable {
    public let certificate: String
    public let key: String

    public init(in directory: TemporaryDirectory, name: String = "server") async throws {
        certificate = directory.path("\(name).pem")
        key = directory.path("\(name)-key.pem")
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", key, "-out", certificate,
        ]
        openssl.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        openssl.standardError = errors
        try openssl.start()
        let said = await errors.fileHandleForReading.readRest()
        try await openssl.exited()
        guard openssl.terminationStatus == 0 else { throw CertificateError(description: "openssl failed: \(said)") }
    }
}

public struct CertificateError: Error, CustomStringConvertible {
    public var description: String
}
