import Hummingbird
import Synchronization

/// How many uploads each key has streaming in: one key may hold at most
/// ``ServerConfiguration/maxUploadsPerKey`` at once, so a client opening upload after upload
/// cannot take every connection, file handle and disk write of the process from the others.
final class UploadSlots: Sendable {
    let perKey: Int
    private let held = Mutex<[String: Int]>([:])

    init(perKey: Int) {
        self.perKey = perKey
    }

    /// Takes one of `keyID`'s slots, or refuses with `429 too_many_uploads`.
    func take(for keyID: String) throws -> UploadSlot {
        let taken = held.withLock { held in
            guard held[keyID, default: 0] < perKey else { return false }
            held[keyID, default: 0] += 1
            return true
        }
        guard taken else {
            throw APIError(
                .tooManyRequests, code: "too_many_uploads",
                "this key already has \(perKey) uploads in progress; wait for one to finish", headers: [.retryAfter: "5"])
        }
        return UploadSlot(slots: self, keyID: keyID)
    }

    /// Uploads in progress, all keys together.
    var inProgress: Int { held.withLock { $0.values.reduce(0, +) } }

    fileprivate func give(back keyID: String) {
        held.withLock { held in
            held[keyID, default: 1] -= 1
            if held[keyID] == 0 { held[keyID] = nil }
        }
    }
}

/// One upload's hold on its key's slot, given back by ``release()`` when the upload is done.
struct UploadSlot: Sendable {
    fileprivate let slots: UploadSlots
    fileprivate let keyID: String

    func release() { slots.give(back: keyID) }
}
