import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationEssentialsCompat
import NIOHTTP1
import SluiceCore

struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch", abstract: "Follow a job's progress live until it ends.",
        discussion: "Exits as `sluice run` does: 0 completed, 3 completed with errors, 2 cancelled, 1 failed or paused.")

    @Argument(help: "The job's id.") var job: String
    @OptionGroup var serverOptions: ServerOptions

    func run() async throws {
        try await runClient(serverOptions) { client in try await follow(try await client.job(job), client: client, options: serverOptions) }
    }
}
