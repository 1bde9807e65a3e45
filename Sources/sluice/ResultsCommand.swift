import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationEssentialsCompat
import NIOHTTP1
import SluiceCore

struct ResultsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "results", abstract: "Download a job's results (so far) from a running server.")

    @Argument(help: "The job's id.") var job: String

    @Option(
        name: .shortAndLong,
        help:
            "Write here: .csv, .jsonl or .xlsx; .json takes the one combined result of a job with a reduce step (default: JSONL on standard output)."
    )
    var output: String?

    @OptionGroup var serverOptions: ServerOptions

    func validate() throws {
        if let output, ResultFormat(fileName: output) == nil, !output.lowercased().hasSuffix(".json") {
            throw ValidationError("--output must end in .csv, .jsonl, .xlsx or .json")
        }
    }

    func run() async throws {
        let path = "/v1/jobs/\(SluiceClient.escape(job))"
        let resource =
            if let output, let format = ResultFormat(fileName: output) {
                "\(path)/results?format=\(format.rawValue)"
            } else if output != nil {
                "\(path)/result"
            } else {
                "\(path)/results?format=jsonl"
            }
        try await runClient(serverOptions) { client in
            let response = try await client.send(client.request(.GET, resource), timeout: .hours(1))
            // Written beside the target and moved into place whole: a broken download leaves no half file.
            let temporary = output.map { $0 + ".part" }
            let handle: FileHandle
            if let temporary {
                guard FileManager.default.createFile(atPath: temporary, contents: nil), let opened = FileHandle(forWritingAtPath: temporary)
                else { throw ClientError(message: "cannot write \(temporary)") }
                handle = opened
            } else {
                handle = FileHandle.standardOutput
            }
            do {
                for try await chunk in response.body { try handle.write(contentsOf: Data(buffer: chunk)) }
            } catch {
                if let temporary { try? FileManager.default.removeItem(atPath: temporary) }
                throw ClientError(message: "the download broke off: \(error)")
            }
            if let temporary, let output {
                try handle.close()
                _ = try? FileManager.default.removeItem(atPath: output)
                try FileManager.default.moveItem(atPath: temporary, toPath: output)
                FileHandle.standardError.write(Data("wrote \(output)\n".utf8))
            }
            return 0
        }
    }
}
