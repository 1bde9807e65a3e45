import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationEssentialsCompat
import NIOHTTP1
import SluiceCore

/// A control verb: its type's name in lower case is the command's and the API's
/// (`POST /v1/jobs/{id}/cancel`).
protocol ControlVerb: Sendable {
    static var abstract: String { get }
}

extension ControlVerb {
    static var name: String { String(describing: Self.self).lowercased() }
}
