/// The machine and process a worker id names, read back from a lease owner.
///
/// Leases of a worker that died are normally taken back when they expire (a minute by
/// default). A worker restarted on the same machine need not wait: if a lease names this host
/// and a process that no longer exists, nobody can still be running that item.
public struct WorkerIdentity: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var pid: Int32

    public init(host: String, pid: Int32) {
        self.host = host
        self.pid = pid
    }

    /// Reads `host:pid:…`; `nil` for owners in any other form (test workers, `sluice run`'s).
    public init?(owner: String) {
        let parts = owner.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count >= 3, let pid = Int32(parts[parts.count - 2]), pid > 0 else { return nil }
        host = parts[0..<(parts.count - 2)].joined(separator: ":")
        self.pid = pid
    }

    public var description: String { "\(host):\(pid)" }
}
