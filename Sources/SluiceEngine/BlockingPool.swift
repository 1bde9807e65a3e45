import NIOPosix
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A pool of threads for work that blocks one — parsing, unzipping, `pdftotext`, exports,
/// name lookups — kept apart from NIO's shared blocking pool, which reads and writes every
/// request's upload and download. With one pool for both, two previews of one user held its
/// two threads and another user's tiny upload waited seconds behind them.
///
/// Each owner (a user) may run at most ``perOwner`` pieces of work at once, fewer than the
/// pool has threads, so one user's heavy requests leave threads for everyone else's.
public final class BlockingPool: Sendable {
    public let threads: Int
    public let perOwner: Int
    let niceness: Int32
    private let pool: NIOThreadPool
    /// Each owner with work waiting or running: its share, and how many pieces use it. An owner
    /// leaves the table with its last piece, so owners the work names (users, a webhook's host)
    /// never pile up.
    private let owners = Mutex<[String: (permits: CallPermits, pieces: Int)]>([:])

    /// - Parameter niceness: How much lower than the rest of the process its threads run
    ///   (Linux's per-thread nice, 0–19): work that takes seconds yields the processor to the
    ///   threads answering requests, which take milliseconds.
    public init(threads: Int, perOwner: Int, niceness: Int32 = 10) {
        self.niceness = niceness
        self.threads = threads
        self.perOwner = min(perOwner, threads)
        pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
    }

    /// Owners with work waiting or running now.
    var ownersInUse: Int { owners.withLock { $0.count } }

    /// Linux's `gettid(2)`, which Glibc declares only for `_GNU_SOURCE`: found at run time.
    typealias ThreadID = @convention(c) () -> pid_t
    static let threadID: ThreadID? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "gettid").map { unsafeBitCast($0, to: ThreadID.self) }

    /// Runs `body` on one of the pool's threads once `owner` has fewer than ``perOwner`` pieces
    /// of work running; throws `CancellationError` if the task is cancelled while it waits.
    public func run<T: Sendable>(owner: String = "", _ body: @escaping @Sendable () throws -> T) async throws -> T {
        let permits = owners.withLock { owners in
            var entry = owners[owner] ?? (CallPermits(perOwner), 0)
            entry.pieces += 1
            owners[owner] = entry
            return entry.permits
        }
        defer {
            owners.withLock { owners in
                guard var entry = owners[owner] else { return }
                entry.pieces -= 1
                owners[owner] = entry.pieces == 0 ? nil : entry
            }
        }
        guard await permits.acquire() else { throw CancellationError() }
        defer { permits.release() }
        return try await pool.runIfActive { [niceness] in
            // Per thread, so idempotent; a thread of this pool only ever runs this pool's work.
            if let tid = BlockingPool.threadID?() { _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), id_t(tid), niceness) }
            return try body()
        }
    }
}
