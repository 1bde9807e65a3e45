import SluiceCore
import SluiceStore

/// How much a worker may claim, and for which providers: it holds no more items than it can
/// start within about a second (``horizon``), so a user who submits while another user's large
/// job runs is claimed next — in the store's fair order — and called within a second or two,
/// instead of waiting behind a queue this worker took first.
///
/// Per provider, the calls that may wait at its gate are what it can start within the horizon:
/// for a rate-limited provider its limiter's pace (with any credit spendable at once), or the
/// part of it this process got in the last second when the pace is shared; for one
/// without a limit, the calls it started in the last second (so a fast provider gets claims
/// big enough to amortise their round trip, a slow one little more than its free slots), at
/// least ``EngineConfiguration/prefetch`` and at most ``mostAhead``. Pure: the worker feeds it
/// what it holds and what its gates say.
struct ClaimBudget: Equatable {
    /// Seconds of starts a worker may hold ahead of its calls.
    static let horizon = 1.0
    /// Calls held beyond the call slots for a provider without a limit, however fast it is.
    static let mostAhead = 256

    /// Call slots in this process.
    var concurrency: Int
    /// Calls held beyond the slots for a provider without a limit, before its pace is seen.
    var prefetch: Int

    /// What one provider looks like to the next claim.
    struct Provider: Equatable {
        init(queued: Int = 0, startsAhead: Double? = nil, startedLastSecond: Int = 0, sharesPace: Bool = false) {
            self.queued = queued
            self.startsAhead = startsAhead
            self.startedLastSecond = startedLastSecond
            self.sharesPace = sharesPace
        }

        /// A key pool's room: its keys' together (no limit when any key has none).
        init(pooling keys: [Provider]) {
            queued = keys.reduce(0) { $0 + $1.queued }
            startsAhead = keys.contains { $0.startsAhead == nil } ? nil : keys.reduce(0) { $0 + ($1.startsAhead ?? 0) }
            startedLastSecond = keys.reduce(0) { $0 + $1.startedLastSecond }
            sharesPace = keys.contains(where: \.sharesPace)
        }

        /// Calls claimed for it that have not gone out.
        var queued = 0
        /// Calls it could start within the horizon at its limiter's pace; `nil` when it has no limit.
        var startsAhead: Double?
        /// Calls started in the last second.
        var startedLastSecond = 0
        /// The provider's pace is shared with other processes (see ``SharedPace``): this one
        /// gets a part of it, not all.
        var sharesPace = false
    }

    /// The next claim's caps, given `calls` held in all (queued, running, or waiting to be
    /// recorded), and the providers offered room (``JobSpec/routedProvider`` for jobs routed by
    /// model); `nil` when no claim is worth making now. A claim is made as soon as a call slot
    /// would idle or a rate-limited provider has nothing queued; otherwise once a provider has
    /// room for half of what it holds ahead (a quarter, without a limit) — so claims come in
    /// batches, not one per started call. Providers in `empty` (a recent claim found no work for
    /// them, see ``EmptyClaims``) are offered nothing and make no claim worth making.
    func allowance(calls: Int, providers: [String: Provider], empty: Set<String> = []) -> Allowance? {
        var rooms: [String: Int] = [:]
        var worth: [String: Bool] = [:]
        for (name, provider) in providers {
            let room: Int
            if var ahead = provider.startsAhead {
                // Sharing the pace, a process starts its part of it: what it started in the last
                // second, and one more so that its part can grow. Holding the whole pace's second,
                // each of N processes would hold N seconds' worth between them.
                if provider.sharesPace { ahead = min(ahead, Double(provider.startedLastSecond + 1)) }
                // One call at a time when the provider's pace allows less than one a second.
                let held = min(Int(ahead.rounded(.up)), concurrency + Self.mostAhead)
                room = min(max(provider.queued == 0 ? 1 : 0, held - provider.queued), concurrency - calls + prefetch)
                // Half a second's worth at once: one claim per several calls, not one per call.
                worth[name] = room > 0 && (provider.queued == 0 || room >= max(1, held / 2))
            } else {
                let ahead = min(Self.mostAhead, max(prefetch, provider.startedLastSecond))
                room = concurrency + ahead - calls
                worth[name] = room > 0 && (calls < concurrency || room >= max(1, ahead / 4))
            }
            rooms[name] = max(0, room)
        }
        // A routed job's items may go to any provider: it gets the smallest room, found or not,
        // and is worth a claim only when that is worth one for every provider. Worth it for one
        // (a provider without a limit has free slots) would claim a paced provider's calls one
        // by one, a claim per call.
        let routed = rooms.values.min()
        let routedOffered =
            (routed ?? 0) > 0 && worth.values.allSatisfy { $0 } && !empty.contains(JobSpec.routedProvider)
        var byProvider = rooms
        for name in empty where byProvider[name] != nil { byProvider[name] = 0 }
        let worthClaiming = routedOffered || worth.contains { $0.value && !empty.contains($0.key) }
        let largest = max(byProvider.values.max() ?? 0, routedOffered ? routed ?? 0 : 0)
        guard worthClaiming, largest > 0 else { return nil }
        var offered = Set(byProvider.compactMap { $0.value > 0 ? $0.key : nil })
        if routedOffered { offered.insert(JobSpec.routedProvider) }
        return Allowance(
            limit: largest, allowance: ClaimAllowance(byProvider: byProvider, routed: routedOffered ? routed : 0), offered: offered)
    }

    /// What ``allowance(calls:providers:empty:)`` lets the next claim take.
    struct Allowance: Equatable {
        /// The most calls' worth of items.
        var limit: Int
        var allowance: ClaimAllowance
        /// The providers given room: those a claim that finds nothing found none for.
        var offered: Set<String>
    }
}
