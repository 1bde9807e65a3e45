import Synchronization
public import Testing

/// Marks a test (or every test of a suite) that loads the machine by design — child processes,
/// thousands of items, hundreds of megabytes — so that such tests run one at a time.
///
/// Swift Testing starts every test of the run at once. The light ones (a store statement, a
/// parser, one HTTP request) do not mind; the heavy ones, side by side on two cores, starve
/// each other and every light test beside them, and a test that waits for thousands of items
/// then takes minutes instead of seconds. One at a time, each heavy test gets the machine's
/// spare core while the light tests share the other.
public struct LoadsTheMachine: TestTrait, SuiteTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        // A suite's own scope holds nothing: each of its tests queues on its own.
        guard testCase != nil else { return try await function() }
        await MachineSlots.shared.acquire()
        do {
            try await function()
        } catch {
            MachineSlots.shared.release()
            throw error
        }
        MachineSlots.shared.release()
    }
}

extension Trait where Self == LoadsTheMachine {
    /// Runs with the other heavy tests one at a time (see ``LoadsTheMachine``).
    public static var loadsTheMachine: Self { LoadsTheMachine() }
}

/// The slots heavy tests take turns in, first come first served.
final class MachineSlots: Sendable {
    static let shared = MachineSlots(count: 1)

    struct State {
        var free: Int
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<State>

    init(count: Int) {
        state = Mutex(State(free: count))
    }

    func acquire() async {
        await withCheckedContinuation { continuation in
            let granted = state.withLock { state in
                guard state.free > 0 else {
                    state.waiting.append(continuation)
                    return false
                }
                state.free -= 1
                return true
            }
            if granted { continuation.resume() }
        }
    }

    /// Hands the slot to the longest waiter, or frees it.
    func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiting.isEmpty else {
                state.free += 1
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }
}
