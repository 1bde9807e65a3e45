import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationEssentialsCompat
import NIOHTTP1
import SluiceCore

struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit", abstract: "Upload files as a job to a running server.",
        discussion: """
            Prints the new job (its id first). With --wait, follows it to the end and exits as `sluice run` does: \
            0 completed, 3 completed with errors, 2 cancelled, 1 failed or paused; 1 also when the server refuses.
            """)

    @OptionGroup var jobOptions: JobOptions

    @Flag(help: "Follow the job until it ends, and exit with its status.")
    var wait = false

    @OptionGroup var serverOptions: ServerOptions

    func run() async throws {
        // The server resolves and checks the spec: its presets and providers are the ones that count.
        let spec = try jobOptions.specJSON()
        try await runClient(serverOptions) { client in
            let job = try await client.submit(files: jobOptions.files, spec: spec)
            guard wait else {
                serverOptions.show(job)
                return 0
            }
            FileHandle.standardError.write(Data("submitted \(job.id)\n".utf8))
            return try await follow(job, client: client, options: serverOptions)
        }
    }
}
