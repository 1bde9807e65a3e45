import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Mustache
import NIOCore

struct WebAssetsError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
