import Foundation
public import NIOSSL
import PostgresNIO
import SluiceCore

/// A `postgres://` URL read into what a client needs: host, port, credentials, database and
/// how to use TLS (`sslmode`, as libpq spells it).
public struct PostgresLocation: Sendable, Equatable {
    public enum SSLMode: String, Sendable, CaseIterable {
        /// Plain TCP.
        case disable
        /// TLS when the server offers it, without checking its certificate.
        case prefer
        /// TLS or no connection, without checking the certificate.
        case require
        /// TLS with the certificate checked against the system's roots and the host name.
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var sslMode: SSLMode
    /// Authorities to check the server's certificate against, on top of the system's, read from
    /// the PEM file `sslrootcert` names (libpq's parameter): for a company CA's certificate.
    public var trustRoots: [NIOSSLCertificate]

    /// Whether a `--database` value names PostgreSQL rather than a SQLite file.
    public static func isPostgresURL(_ value: String) -> Bool {
        value.hasPrefix("postgres://") || value.hasPrefix("postgresql://")
    }

    public init(url text: String) throws {
        guard Self.isPostgresURL(text), let components = URLComponents(string: text) else {
            throw LocationError("expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=MODE]")
        }
        guard let host = components.host, !host.isEmpty else { throw LocationError("the URL names no host") }
        guard let user = components.user, !user.isEmpty else { throw LocationError("the URL names no user") }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty else { throw LocationError("the URL names no database") }
        // Off this machine the default checks the certificate: a database password and every
        // user's data go over that connection, and `prefer` takes any certificate (or none)
        // from whoever answers. On loopback nobody is in between.
        var mode: SSLMode = Self.isLoopback(host) ? .prefer : .verifyFull
        var trustRoots: [NIOSSLCertificate] = []
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value, let parsed = SSLMode(rawValue: value) else {
                    let modes = SSLMode.allCases.map(\.rawValue).joined(separator: ", ")
                    throw LocationError("sslmode must be one of \(modes)")
                }
                mode = parsed
            case "sslrootcert":
                guard let file = item.value, !file.isEmpty else { throw LocationError("sslrootcert must name a PEM file") }
                do {
                    trustRoots = try NIOSSLCertificate.fromPEMFile(file)
                } catch {
                    throw LocationError("sslrootcert: cannot read PEM certificates from \(file): \(error)")
                }
            default: throw LocationError("unknown URL parameter \(item.name) (only sslmode and sslrootcert are read)")
            }
        }
        self.host = host
        port = components.port ?? 5432
        username = user.removingPercentEncoding ?? user
        password = components.password.map { $0.removingPercentEncoding ?? $0 }
        self.database = database.removingPercentEncoding ?? database
        sslMode = mode
        self.trustRoots = trustRoots
    }

    /// A loopback name or address, or a Unix socket folder: where no network lies in between.
    static func isLoopback(_ host: String) -> Bool {
        host.hasPrefix("/") || Loopback.contains(host)
    }

    /// The URL with its password hidden, for logs and messages.
    public var redacted: String {
        "postgres://\(username)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)?sslmode=\(sslMode.rawValue)"
    }

    var clientConfiguration: PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch sslMode {
        case .disable: tls = .disable
        case .prefer, .require:
            var unchecked = TLSConfiguration.makeClientConfiguration()
            unchecked.certificateVerification = .none
            tls = sslMode == .prefer ? .prefer(unchecked) : .require(unchecked)
        case .verifyFull:
            var checked = TLSConfiguration.makeClientConfiguration()
            if !trustRoots.isEmpty { checked.additionalTrustRoots = [.certificates(trustRoots)] }
            tls = .require(checked)
        }
        return PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
    }
}
