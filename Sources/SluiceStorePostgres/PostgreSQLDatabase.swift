import Foundation
public import Logging
import NIOCore
import NIOPosix
import PostgresNIO
public import SluiceStore

/// PostgreSQL, shared by API and worker processes on many machines.
///
/// The store's transactions are synchronous (see ``SQLTransaction``), so each runs on a thread
/// of a small pool of its own, holding one pooled connection from `BEGIN` to `COMMIT`; the
/// statements inside wait for their answers on that thread, never on an event loop or the
/// concurrency pool. Row locks (`FOR UPDATE`, `SKIP LOCKED`) and the guards in every statement
/// keep concurrent transactions of many processes correct; a deadlock or serialization
/// failure is reported as retryable and the store runs the transaction again.
public final class PostgreSQLDatabase: SQLDatabase {
    public let location: PostgresLocation
    let client: PostgresClient
    let threads: NIOThreadPool
    let logger: Logger
    /// The client's connection pool at work, until ``close()``.
    let running: Task<Void, Never>

    /// Connections a process keeps at most by default; as many threads run transactions.
    public static let defaultMaximumConnections = 16

    init(location: PostgresLocation, maximumConnections: Int, logger: Logger) {
        self.location = location
        self.logger = logger
        var configuration = location.clientConfiguration
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(10)
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        threads = NIOThreadPool(numberOfThreads: maximumConnections)
        threads.start()
        running = Task { await client.run() }
    }

    /// How long opening waits for the server by default: the client would retry for over a
    /// minute, silently.
    public static let connectDeadline = Duration.seconds(20)

    /// Connects and applies pending migrations, failing after `deadline` without an answer;
    /// ``close()`` when done.
    public static func open(
        location: PostgresLocation, maximumConnections: Int = defaultMaximumConnections, deadline: Duration = connectDeadline,
        logger: Logger
    ) async throws -> PostgreSQLDatabase {
        let database = PostgreSQLDatabase(location: location, maximumConnections: maximumConnections, logger: logger)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await database.migrate() }
                group.addTask {
                    try await Task.sleep(for: deadline)
                    throw StoreError.notReady("no answer from \(location.redacted) within \(deadline)")
                }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            await database.close()
            throw error
        }
        return database
    }

    /// Closes the connections and stops the transaction threads.
    public func close() async {
        running.cancel()
        await running.value
        try? await threads.shutdownGracefully()
    }

    /// Opens the database, runs `body` with it and closes it, whether `body` returns or throws.
    public static func withDatabase<T: Sendable>(
        location: PostgresLocation, logger: Logger, _ body: (PostgreSQLDatabase) async throws -> T
    ) async throws -> T {
        let database = try await open(location: location, logger: logger)
        do {
            let result = try await body(database)
            await database.close()
            return result
        } catch {
            await database.close()
            throw error
        }
    }

    public var lockClause: String { "FOR UPDATE" }

    /// The server's clock now, not at the transaction's start.
    public var clockExpression: String { "EXTRACT(EPOCH FROM clock_timestamp())" }

    public func skipLocked(_ alias: String) -> String { "FOR UPDATE OF \(alias) SKIP LOCKED" }

    public func greatest(_ expressions: [String]) -> String { "GREATEST(\(expressions.joined(separator: ", ")))" }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLTransaction) throws -> T) async throws -> T {
        try await run { transaction in
            try transaction.execute("BEGIN", [])
            do {
                let result = try body(transaction)
                try transaction.execute("COMMIT", [])
                return result
            } catch {
                try? transaction.execute("ROLLBACK", [])
                throw error
            }
        }
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLTransaction) throws -> T) async throws -> T {
        try await run(body)
    }

    /// Leases a connection and runs `body` on a transaction thread with it.
    func run<T: Sendable>(_ body: @escaping @Sendable (PostgresTransaction) throws -> T) async throws -> T {
        do {
            return try await client.withConnection { connection in
                try await threads.runIfActive { [logger] in try body(PostgresTransaction(connection: connection, logger: logger)) }
            }
        } catch let error as PSQLError {
            throw PostgresTransaction.storeError(error)
        }
    }

    /// Applies the migrations the database lacks (``open`` does, before anything else).
    func migrate() async throws {
        try await write { tx in
            // One process migrates at a time; the others wait here and then find nothing to do.
            try tx.execute("SELECT pg_advisory_xact_lock(\(PostgresMigrations.lockKey))", [])
            try tx.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)", [])
            let applied = Set(try tx.rows("SELECT name FROM schema_migrations", []).map { try $0.text("name") })
            for migration in PostgresMigrations.all where !applied.contains(migration.name) {
                for statement in migration.statements { try tx.execute(statement, []) }
                try tx.execute(
                    "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)",
                    [.text(migration.name), .double(Date().timeIntervalSince1970)])
            }
        }
    }

    public func pendingMigrations() async throws -> [String] {
        let applied = try await read { tx in
            guard try tx.row("SELECT to_regclass('schema_migrations') IS NOT NULL AS present", [])?.int("present") == 1 else {
                return [String]()
            }
            return try tx.rows("SELECT name FROM schema_migrations", []).map { try $0.text("name") }
        }
        return PostgresMigrations.all.map(\.name).filter { !applied.contains($0) }
    }
}
