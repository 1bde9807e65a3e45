import Foundation

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

    /// What names this machine in worker ids: the host name, then `/` and the boot and the pid
    /// namespace the process runs in. Containers can share a host name (and do on a host
    /// network) while their pids are their own: a pid that is dead here may be a living worker
    /// in the next container, so only a process of the same namespace is judged by its pid.
    /// When neither can be read the token is random, and a restarted worker then waits for its
    /// predecessor's leases to expire instead.
    public static let thisMachine: String = {
        let boot = (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines).prefix(8)
        let namespace = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid"))?
            .filter(\.isNumber)
        let token =
            if let boot, let namespace, !boot.isEmpty, !namespace.isEmpty { "\(boot)-\(namespace)" } else {
                String(UInt64.random(in: 0...UInt64.max), radix: 16)
            }
        return ProcessInfo.processInfo.hostName.replacingOccurrences(of: ":", with: "_") + "/" + token
    }()
}
