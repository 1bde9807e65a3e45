import Foundation
import Synchronization

/// One call's entry in ``RunningCalls``, filled in when its request goes out.
final class CallWatch: Sendable {
    private let state = Mutex<(id: Int?, lent: Bool, started: Bool)>((nil, false, false))
    /// Whether the request went out.
    var started: Bool {
        get { state.withLock { $0.started } }
        set { state.withLock { $0.started = newValue } }
    }
    var id: Int? {
        get { state.withLock { $0.id } }
        set { state.withLock { $0.id = newValue } }
    }
    var lent: Bool {
        get { state.withLock { $0.lent } }
        set { state.withLock { $0.lent = newValue } }
    }
}
