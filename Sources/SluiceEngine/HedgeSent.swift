import Foundation
import SluiceCore
import SluiceProviders
import SluiceStore
import Synchronization

/// Whether a hedge went out (see ``ItemRunner/complete(_:provider:gate:hedgeAfter:stop:)``), set
/// by its task and read by the one waiting for the answers.
final class HedgeSent: Sendable {
    let flag = Mutex(false)
}
