import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationEssentialsCompat
import NIOHTTP1
import SluiceCore

struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "jobs", abstract: "List your jobs on a running server, newest first.")

    @Option(help: "Only jobs with this status.") var status: String?
    @Option(help: "How many jobs (1–1000).") var limit = 20
    @OptionGroup var serverOptions: ServerOptions

    func validate() throws {
        guard (1...1000).contains(limit) else { throw ValidationError("--limit must be from 1 to 1000") }
        if let status, JobStatus(rawValue: status) == nil {
            throw ValidationError("--status must be one of \(JobStatus.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() async throws {
        var query = "/v1/jobs?limit=\(limit)"
        if let status { query += "&status=\(status)" }
        try await runClient(serverOptions) { client in
            let page = try await client.json(client.request(.GET, query))
            guard case .array(let jobs)? = page["data"] else { throw ClientError(message: "the server's answer is not a list of jobs") }
            for job in jobs { serverOptions.show(try RemoteJob(job)) }
            if jobs.isEmpty, !serverOptions.json { FileHandle.standardError.write(Data("no jobs\n".utf8)) }
            return 0
        }
    }
}
