import SluiceStorePostgres
import Testing

/// `--database postgres://…`: what is read from the URL, and a clear refusal of each bad form.
@Suite struct PostgresLocationTests {
    @Test func readsHostPortCredentialsDatabaseAndMode() throws {
        let location = try PostgresLocation(url: "postgres://sluice:p%40ss@db.internal:6543/jobs?sslmode=verify-full")
        #expect(location.host == "db.internal")
        #expect(location.port == 6543)
        #expect(location.username == "sluice")
        #expect(location.password == "p@ss")
        #expect(location.database == "jobs")
        #expect(location.sslMode == .verifyFull)
        #expect(!location.redacted.contains("p@ss"), "the password never reaches a log")
        let defaults = try PostgresLocation(url: "postgresql://sluice@db/jobs")
        #expect(defaults.port == 5432)
        #expect(defaults.sslMode == .verifyFull, "off this machine the certificate is checked unless the URL says otherwise")
        #expect(defaults.password == nil)
        for local in ["localhost", "127.0.0.1", "[::1]"] {
            #expect(try PostgresLocation(url: "postgres://sluice@\(local)/jobs").sslMode == .prefer, "\(local)")
        }
        #expect(try PostgresLocation(url: "postgres://sluice@127.evil.example/jobs").sslMode == .verifyFull)
    }

    @Test(arguments: [
        ("sluice.sqlite", "expected postgres://"),
        ("postgres:///jobs", "no host"),
        ("postgres://db.internal/jobs", "no user"),
        ("postgres://sluice@db.internal", "no database"),
        ("postgres://sluice@db.internal/jobs?sslmode=allow", "sslmode must be one of disable, prefer, require, verify-full"),
        ("postgres://sluice@db.internal/jobs?connect_timeout=5", "unknown URL parameter connect_timeout"),
        ("postgres://sluice@db.internal/jobs?sslrootcert=/nonexistent.pem", "sslrootcert: cannot read PEM certificates"),
    ])
    func refusesBadURLsSayingWhy(url: String, message: String) {
        #expect(throws: LocationError.self) { _ = try PostgresLocation(url: url) }
        do {
            _ = try PostgresLocation(url: url)
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }
}
