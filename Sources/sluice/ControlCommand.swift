import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationEssentialsCompat
import NIOHTTP1
import SluiceCore

/// `sluice cancel|pause|resume|retry JOB`: one command per verb, the same shape for each.
struct ControlCommand<Verb: ControlVerb>: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: Verb.name, abstract: Verb.abstract)
    }

    @Argument(help: "The job's id.") var job: String
    @OptionGroup var serverOptions: ServerOptions

    func run() async throws {
        try await runClient(serverOptions) { client in
            serverOptions.show(try await client.control(job, Verb.name))
            return 0
        }
    }
}
