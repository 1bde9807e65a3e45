import NIOPosix
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The process's pools for blocking work, by kind, so that kinds cannot starve each other.
public enum BlockingWork {
    /// Reading uploads into items, opening spreadsheets and PDFs, building exports and message
    /// batches: CPU and disk work of seconds to minutes.
    public static let heavy = BlockingPool(threads: 4, perOwner: 2)
    /// Name lookups (`getaddrinfo` blocks, for seconds when a resolver is slow).
    public static let network = BlockingPool(threads: 4, perOwner: 2)
}
