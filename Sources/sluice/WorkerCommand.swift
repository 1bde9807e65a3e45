import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import SluiceComposer
import SluiceCore
import SluiceEngine
import SluiceStore

/// `sluice worker`: everything behind the front door — reading uploads into items, claims,
/// model calls, the reaper, webhooks and housekeeping — against a database that API processes
/// (`sluice serve --no-workers`) fill, with the uploads they keep (`--uploads`). Run as many as the load needs, on
/// as many machines; with PostgreSQL they share one rate limit per provider.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run workers only: read uploads into items, call the models, record results, send webhooks.",
        discussion: """
            SIGTERM or Ctrl-C stops claiming, lets the calls in flight finish (or gives their items back) and exits 0.
            """ + "\n\n" + ProcessTracing.help)

    @OptionGroup var databaseOption: DatabaseOption

    @OptionGroup var uploadsOption: UploadsOption

    @OptionGroup var processOptions: ProcessOptions

    @OptionGroup var providerOptions: ProviderOptions

    var concurrency: Int { processOptions.concurrency }

    func run() async throws {
        let logger = processOptions.startLogging()
        let configuration = try providerOptions.configuration()
        let storage = try uploadsOption.storage(for: databaseOption)
        try await databaseOption.withStore(logger: logger) { store in
            // Workers are run to be several: on SQLite too, they share the providers' limits.
            let composer = Composer(
                role: .worker, store: store, configuration: configuration, storage: storage,
                engine: EngineConfiguration(concurrency: concurrency, sharedPace: store.pace, readings: store.readings), logger: logger)
            let announcement = Announcement {
                logger.notice("sluice worker is running", metadata: ["concurrency": "\(concurrency)"])
                FileHandle.standardOutput.write(Data("sluice worker running (concurrency \(concurrency))\n".utf8))
            }
            try await composer.run(alongside: [.init(service: announcement)] + (try ProcessTracing.start().map { [$0] } ?? []))
        }
    }
}
