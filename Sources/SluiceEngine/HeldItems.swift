/// The items this worker holds leases on: what the heartbeat extends, and what gates claiming
/// (a worker never holds more than it can soon start, so other workers get the rest).
actor HeldItems {
    private var ids: Set<Int64> = []
    private var capacityWaiters: [(limit: Int, continuation: CheckedContinuation<Void, Never>)] = []

    var all: [Int64] { Array(ids) }

    func add(_ newIDs: [Int64]) {
        ids.formUnion(newIDs)
    }

    func remove(_ oldIDs: [Int64]) {
        ids.subtract(oldIDs)
        let ready = capacityWaiters.filter { ids.count < $0.limit }
        capacityWaiters.removeAll { ids.count < $0.limit }
        for waiter in ready { waiter.continuation.resume() }
    }

    /// Returns once fewer than `limit` items are held.
    func waitUntilBelow(_ limit: Int) async {
        if ids.count < limit { return }
        await withCheckedContinuation { capacityWaiters.append((limit, $0)) }
    }
}
