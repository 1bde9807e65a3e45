import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationEssentialsCompat
import NIOHTTP1
import SluiceCore

enum Pause: ControlVerb { static let abstract = "Pause a job: nothing new starts until it is resumed." }
