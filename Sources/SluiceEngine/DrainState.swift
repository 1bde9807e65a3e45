import Foundation
import Logging
import ServiceLifecycle
import SluiceCore
import SluiceProviders
import SluiceStore
import Synchronization

/// Set once when the worker starts draining; read synchronously from the shutdown handler.
/// `draining` moves on when it is set, ending an idle wait at once.
final class DrainState: Sendable {
    private let flag = Mutex(false)
    let draining = WakeSignal()
    var isDraining: Bool { flag.withLock { $0 } }
    func begin() {
        flag.withLock { $0 = true }
        draining.wakeAll()
    }
}
