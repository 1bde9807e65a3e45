import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SluiceCore

/// A refusal from the server (its status and message) or a failure to reach it.
struct ClientError: Error, CustomStringConvertible {
    var status: Int?
    var message: String

    init(message: String) {
        self.message = message
    }

    init(status: Int, body: String) {
        self.status = status
        if let json = try? JSONParser.parse(body), let text = json["error"]?["message"]?.stringValue {
            message = text
        } else {
            message = body.isEmpty ? "HTTP \(status)" : String(body.prefix(500))
        }
    }

    var description: String { status.map { "\(message) (HTTP \($0))" } ?? message }
}
