import Hummingbird
import Synchronization

/// How many of one kind of long-lived request each key has going: uploads streaming in (at
/// most ``ServerConfiguration/maxUploadsPerKey``), event streams open (at most
/// ``ServerConfiguration/maxEventStreamsPerKey``) — so a client opening one after another cannot
/// take every connection, file handle, disk write or database poll of the process from the others.
final class KeySlots: Sendable {
    let perKey: Int
    /// What the slots are for, in the refusal: "uploads", "event streams".
    let what: String
    let code: String
    private let held = Mutex<[String: Int]>([:])

    init(perKey: Int, what: String, code: String) {
        self.perKey = perKey
        self.what = what
        self.code = code
    }

    /// Takes one of `keyID`'s slots, or refuses with `429 too_many_uploads`.
    func take(for keyID: String) throws -> KeySlot {
        let taken = held.withLock { held in
            guard held[keyID, default: 0] < perKey else { return false }
            held[keyID, default: 0] += 1
            return true
        }
        guard taken else {
            throw APIError(
                .tooManyRequests, code: code, "this key already has \(perKey) \(what) open; wait for one to finish",
                headers: [.retryAfter: "5"])
        }
        return KeySlot(slots: self, keyID: keyID)
    }

    /// Slots held, all keys together.
    var inProgress: Int { held.withLock { $0.values.reduce(0, +) } }

    fileprivate func give(back keyID: String) {
        held.withLock { held in
            held[keyID, default: 1] -= 1
            if held[keyID] == 0 { held[keyID] = nil }
        }
    }
}

/// One request's hold on its key's slot, given back by ``release()`` when it is done — or, at
/// the latest, when the hold itself goes: an event stream's response whose body never ran
/// (the client left before it started) drops its hold without a `release()`, and a slot lost
/// that way would be lost to its key until the process restarts.
final class KeySlot: Sendable {
    private let slots: KeySlots
    private let keyID: String
    private let released = Atomic<Bool>(false)

    fileprivate init(slots: KeySlots, keyID: String) {
        self.slots = slots
        self.keyID = keyID
    }

    /// Gives the slot back; later calls do nothing.
    func release() {
        guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
        slots.give(back: keyID)
    }

    deinit { release() }
}
