import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationEssentialsCompat
import NIOHTTP1
import SluiceCore

enum Resume: ControlVerb { static let abstract = "Resume a paused job." }
