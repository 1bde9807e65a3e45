import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationEssentialsCompat
import NIOHTTP1
import SluiceCore

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show a job on a running server.")

    @Argument(help: "The job's id.") var job: String
    @OptionGroup var serverOptions: ServerOptions

    func run() async throws {
        try await runClient(serverOptions) { client in
            serverOptions.show(try await client.job(job))
            return 0
        }
    }
}
