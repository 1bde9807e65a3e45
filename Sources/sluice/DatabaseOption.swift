import ArgumentParser
import Foundation
import Logging
import SluiceStore
import SluiceStorePostgres
import SluiceStoreSQLite

/// `--database`, declared once for every command: a SQLite file path, or a `postgres://` URL.
struct DatabaseOption: ParsableArguments {
    @Option(
        help: """
            The database: a SQLite file, or postgres://USER:PASSWORD@HOST:PORT/NAME?sslmode=disable|prefer|require|verify-full \
            shared by many processes (default: $SLUICE_DATABASE or sluice.sqlite).
            """)
    var database = ProcessInfo.processInfo.environment["SLUICE_DATABASE"] ?? "sluice.sqlite"

    var isPostgres: Bool { PostgresLocation.isPostgresURL(database) }

    /// Whether providers' limits are shared through the database. On PostgreSQL any number of
    /// processes work on it, so they must be. A SQLite file is one machine's, worked by one
    /// process (`serve` or `run`), whose own limiter may also spend a provider's burst credit —
    /// which processes sharing a schedule cannot, since each would spend the same credit.
    var sharesLimits: Bool { isPostgres }

    /// Where uploads go when `--uploads` is not given: beside a SQLite file, or in the working
    /// directory for PostgreSQL.
    var defaultUploadDirectory: String { isPostgres ? "sluice.uploads" : database + ".uploads" }

    func validate() throws {
        if isPostgres {
            do {
                _ = try PostgresLocation(url: database)
            } catch {
                throw ValidationError("--database: \(error)")
            }
        }
    }

    /// Opens the database (applying pending migrations), runs `body` with a store on it, and
    /// closes it, whether `body` returns or throws.
    func withStore<T: Sendable>(logger: Logger, _ body: (SQLJobStore) async throws -> T) async throws -> T {
        if isPostgres {
            return try await PostgreSQLDatabase.withDatabase(location: try PostgresLocation(url: database), logger: logger) { database in
                try await body(SQLJobStore(database: database))
            }
        }
        return try await body(try SQLJobStore.sqlite(path: database))
    }
}
