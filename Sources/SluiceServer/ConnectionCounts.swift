import NIOCore
import NIOHTTPTypes
import Synchronization

/// Connections open at once, from each client address and in all: past either, a new
/// connection is closed as soon as it opens. Without a cap, one client opening connection after
/// connection (each costs a descriptor and buffers) could take the server from everyone.
final class ConnectionCounts: Sendable {
    let perAddress: Int
    let total: Int
    private let open = Mutex<(total: Int, byAddress: [String: Int])>((0, [:]))

    init(perAddress: Int, total: Int) {
        self.perAddress = perAddress
        self.total = total
    }

    /// Counts a connection from `address` in, or `false` when it is one too many.
    func admit(_ address: String) -> Bool {
        open.withLock { open in
            guard open.total < total, open.byAddress[address, default: 0] < perAddress else { return false }
            open.total += 1
            open.byAddress[address, default: 0] += 1
            return true
        }
    }

    func release(_ address: String) {
        open.withLock { open in
            open.total -= 1
            open.byAddress[address, default: 1] -= 1
            if open.byAddress[address] == 0 { open.byAddress[address] = nil }
        }
    }

    var current: Int { open.withLock { $0.total } }
}
