public import Foundation
import Logging
import PostgresNIO
public import SluiceCore
public import SluiceStore
import SluiceStorePostgres
import SluiceStoreSQLite

/// The store drivers the conformance suite runs against. Every test of the suite takes a
/// driver as its argument, so a behaviour one driver lacks fails by name.
///
/// PostgreSQL takes part when `SLUICE_TEST_POSTGRES` names a server (a `postgres://` URL of a
/// user allowed to create databases), as `scripts/test.sh` arranges; each store gets a database
/// of its own on it.
public enum StoreDriver: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case postgres

    public var description: String { rawValue }

    /// The drivers this run can test: SQLite always, PostgreSQL when a server is given.
    public static var available: [StoreDriver] { PostgresTestServer.url == nil ? [.sqlite] : [.sqlite, .postgres] }

    /// The driver engine and HTTP tests run on: `SLUICE_TEST_DRIVER` (sqlite by default), so
    /// the test script can run those suites once per driver.
    public static var current: StoreDriver {
        ProcessInfo.processInfo.environment["SLUICE_TEST_DRIVER"].flatMap(StoreDriver.init(rawValue:)) ?? .sqlite
    }

    /// A fresh, empty store, alive with its files (or database) as long as the fixture is.
    public func makeStore() async throws -> StoreFixture {
        let directory = TemporaryDirectory()
        switch self {
        case .sqlite:
            let store = try SQLJobStore.sqlite(path: directory.path("sluice.sqlite"))
            return StoreFixture(store: store, directory: directory, databaseURL: directory.path("sluice.sqlite"), close: nil)
        case .postgres:
            let url = try await PostgresTestServer.createDatabase()
            let database = try await PostgresTestServer.open(url)
            return StoreFixture(store: SQLJobStore(database: database), directory: directory, databaseURL: url, close: database)
        }
    }
}

/// A store and whatever must outlive it (its database file, or its PostgreSQL connections).
public final class StoreFixture: Sendable {
    public let store: SQLJobStore
    public let directory: TemporaryDirectory
    /// What `--database` names this store by, for a `sluice` process sharing it.
    public let databaseURL: String
    let close: PostgreSQLDatabase?

    init(store: SQLJobStore, directory: TemporaryDirectory, databaseURL: String, close: PostgreSQLDatabase?) {
        self.store = store
        self.directory = directory
        self.databaseURL = databaseURL
        self.close = close
    }

    deinit {
        if let close { Task { await close.close() } }
    }

    /// Renames a table under everyone using the database: from then on every statement that
    /// names it fails with the driver's own error (and its SQL) — a real store failure, mended
    /// by renaming it back.
    public func renameTable(_ name: String, to newName: String) async throws {
        try await store.database.write { tx in _ = try tx.execute("ALTER TABLE \(name) RENAME TO \(newName)", []) }
    }

    /// The table of applied migrations: without it the schema looks behind this build.
    public var migrationsTable: String { PostgresLocation.isPostgresURL(databaseURL) ? "schema_migrations" : "grdb_migrations" }

    /// Another store on the same database with connections of its own, as a second process
    /// would have: on SQLite another pool on the file, on PostgreSQL another client.
    public func another() async throws -> StoreFixture {
        if PostgresLocation.isPostgresURL(databaseURL) {
            let database = try await PostgresTestServer.open(databaseURL)
            return StoreFixture(store: SQLJobStore(database: database), directory: directory, databaseURL: databaseURL, close: database)
        }
        return StoreFixture(store: try SQLJobStore.sqlite(path: databaseURL), directory: directory, databaseURL: databaseURL, close: nil)
    }
}

/// The PostgreSQL server tests share, and the throwaway databases they make on it.
public enum PostgresTestServer {
    /// `SLUICE_TEST_POSTGRES`: a URL of the server's maintenance database.
    public static var url: String? { ProcessInfo.processInfo.environment["SLUICE_TEST_POSTGRES"] }

    /// One client to the maintenance database, for `CREATE DATABASE`.
    static let admin: PostgresClient? = url.flatMap { url in
        guard let location = try? PostgresLocation(url: url) else { return nil }
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.username, password: location.password,
            database: location.database, tls: .disable)
        configuration.options.maximumConnections = 2
        let client = PostgresClient(configuration: configuration, backgroundLogger: Logger(label: "test"))
        Task.detached { await client.run() }
        return client
    }

    /// Creates a database with every migration applied and returns its URL.
    ///
    /// A copy of a template migrated once per test process: migrating each of a run's hundreds
    /// of databases itself (dozens of DDL statements each, all at once) was a load of its own.
    public static func createDatabase() async throws -> String {
        guard let admin else { throw PostgresTestError("SLUICE_TEST_POSTGRES is not set: no PostgreSQL server to test against") }
        let name = newName()
        try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name) TEMPLATE \(try await template.value) STRATEGY = FILE_COPY"))
        return try databaseURL(name)
    }

    /// Opens a test database with the connections a test needs. Opening waits for as long as a
    /// hang takes (``hangLimit``), not the production deadline: on a loaded machine the
    /// server answers late, and that must not fail a test.
    static func open(_ url: String) async throws -> PostgreSQLDatabase {
        try await PostgreSQLDatabase.open(
            location: try PostgresLocation(url: url), maximumConnections: 4, deadline: .seconds(hangLimit), logger: Logger(label: "test"))
    }

    /// The migrated database new ones are copied from, made by the first test that asks.
    static let template = Task<String, any Error> {
        guard let admin else { throw PostgresTestError("SLUICE_TEST_POSTGRES is not set: no PostgreSQL server to test against") }
        let name = newName()
        try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name) STRATEGY = FILE_COPY"))
        // Migrated and closed: a database is copied only while nobody is connected to it.
        let migrated = try await open(try databaseURL(name))
        await migrated.close()
        return name
    }

    static func newName() -> String {
        "sluice_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
    }

    static func databaseURL(_ name: String) throws -> String {
        guard let url, var components = URLComponents(string: url) else {
            throw PostgresTestError("SLUICE_TEST_POSTGRES is not a URL: \(String(describing: url))")
        }
        components.path = "/" + name
        return components.string!
    }
}

public struct PostgresTestError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// Shortcuts for building jobs in tests.
public enum Fixtures {
    public static func spec(_ json: JSONValue = ["template": "{{text}}"]) -> JobSpec {
        try! JobSpec.parse(json, preset: { _ in nil })
    }

    /// Creates a job and appends `count` items (`{"text": "item N"}`), grouped by `groups` when given.
    public static func queuedJob(
        in store: any JobStore, count: Int, spec: JobSpec = spec(), owner: String = "alice", groups: ((Int) -> String?)? = nil,
        keyID: String? = nil, now: Date
    ) async throws -> Job {
        let job = try await validatingJob(in: store, spec: spec, owner: owner, keyID: keyID, now: now)
        let items = (0..<count).map { index in
            NewItem(index: index, groupKey: groups?(index), input: JSONObject([("text", .string("item \(index)"))]))
        }
        if !items.isEmpty { try await store.appendItems(jobID: job.id, owner: ingestor, items: items) }
        return try await store.finishValidation(jobID: job.id, owner: ingestor, now: now)
    }

    /// The ingest lease owner test jobs are read by.
    public static let ingestor = "test-ingestor"

    /// Creates a job in `validating` whose ingest ``ingestor`` holds.
    public static func validatingJob(
        in store: any JobStore, spec: JobSpec = spec(), owner: String = "alice", fingerprint: String? = nil, keyID: String? = nil,
        now: Date, traceContext: [String: String] = [:]
    ) async throws -> Job {
        let job = try await store.createJob(
            NewJob(owner: owner, name: "test", spec: spec, sources: [], fingerprint: fingerprint, keyID: keyID, traceContext: traceContext),
            now: now)
        return try await store.takeIngest(jobID: job.id, owner: ingestor, leaseDuration: 60, now: now)
    }
}
