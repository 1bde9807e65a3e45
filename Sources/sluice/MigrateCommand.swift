import ArgumentParser
import Foundation
import Logging
import SluiceStore

/// `sluice migrate`: brings the database's schema up to this version's, then says so. Every
/// other command migrates at start too; this is for deploying the schema before the processes.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Apply pending database migrations and exit.")

    @OptionGroup var databaseOption: DatabaseOption

    func run() async throws {
        let pending = try await databaseOption.withStore(logger: Logger(label: "sluice")) { store in
            try await store.database.pendingMigrations()
        }
        guard pending.isEmpty else {
            FileHandle.standardError.write(Data("migrations still pending: \(pending.joined(separator: ", "))\n".utf8))
            throw ExitCode(1)
        }
        FileHandle.standardError.write(Data("the database is up to date\n".utf8))
    }
}
