import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationEssentialsCompat
import NIOHTTP1
import SluiceCore

enum Cancel: ControlVerb { static let abstract = "Cancel a job: nothing new starts, calls in flight finish." }
