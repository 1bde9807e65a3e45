import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SluiceCore

/// The server's job object, with what the CLI reads of it; ``json`` is printed as it came.
struct RemoteJob {
    var json: JSONValue
    var id: String
    var status: JobStatus
    var statusReason: String?
    var message: String?
    var counts: JobCounts

    init(_ json: JSONValue) throws {
        guard let id = json["id"]?.stringValue, let status = json["status"]?.stringValue.flatMap(JobStatus.init(rawValue:)) else {
            throw ClientError(message: "the server's answer is not a job")
        }
        self.json = json
        self.id = id
        self.status = status
        statusReason = json["status_reason"]?.stringValue
        message = json["message"]?.stringValue
        let counts = json["counts"]
        func count(_ name: String) -> Int { counts?[name]?.intValue ?? 0 }
        self.counts = JobCounts(
            total: count("total"), pending: count("pending"), running: count("running"), succeeded: count("succeeded"),
            failed: count("failed"), cancelled: count("cancelled"))
    }
}
