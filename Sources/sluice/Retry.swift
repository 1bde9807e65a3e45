import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationEssentialsCompat
import NIOHTTP1
import SluiceCore

enum Retry: ControlVerb { static let abstract = "Run a finished job's failed items again." }
