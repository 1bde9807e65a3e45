import Foundation
import SluiceCore

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a program directly (``Spawn``) and collects what it writes, within a time limit and a
/// cap on its output — on the calling thread, with no helper threads: only `poll` and
/// `waitpid`. A child past its limit is killed with SIGKILL.
///
/// The child gets a minimal environment (``environment``), never the server's — which holds
/// provider keys, storage secrets and the database password — and limits on its memory, CPU
/// time and the files it may write (``limits``), set the moment it starts.
enum Sandbox {
    static let environment = ["PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "HOME=/nonexistent"]
    /// Address space 1 GiB, CPU 300 s, files written 1 MiB (output goes to a pipe), 256 descriptors.
    static let limits: [(resource: Int32, value: rlim_t)] = [
        (Int32(RLIMIT_AS.rawValue), 1 << 30), (Int32(RLIMIT_CPU.rawValue), 300), (Int32(RLIMIT_FSIZE.rawValue), 1 << 20),
        (Int32(RLIMIT_NOFILE.rawValue), 256),
    ]
    /// Linux's `prlimit(2)`, which Glibc declares only for `_GNU_SOURCE`: found at run time.
    typealias PRLimit = @convention(c) (pid_t, Int32, UnsafePointer<rlimit>?, UnsafeMutablePointer<rlimit>?) -> Int32
    static let prlimit: PRLimit? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "prlimit").map { unsafeBitCast($0, to: PRLimit.self) }

    struct Outcome {
        var status: Int32
        var output: [UInt8]
        var errors: [UInt8]
        var timedOut = false
        var outputTooLong = false
    }

    struct LaunchError: Error, CustomStringConvertible {
        var description: String
    }

    static func run(_ executable: String, arguments: [String], timeoutSeconds: Double, maximumOutput: Int) throws(LaunchError)
        -> Outcome
    {
        var opened: [Int32] = []
        let pid: pid_t
        let out: (read: Int32, write: Int32)
        let err: (read: Int32, write: Int32)
        do throws(Spawn.Failure) {
            out = try Spawn.pipe()
            opened += [out.read, out.write]
            err = try Spawn.pipe()
            opened += [err.read, err.write]
            pid = try Spawn.start(executable, arguments: arguments, environment: Self.environment, output: out.write, errors: err.write)
        } catch {
            for descriptor in opened { close(descriptor) }
            throw LaunchError(description: error.description)
        }
        close(out.write)
        close(err.write)
        if let prlimit = Self.prlimit {
            for limit in Self.limits {
                var value = rlimit(rlim_cur: limit.value, rlim_max: limit.value)
                _ = prlimit(pid, limit.resource, &value, nil)
            }
        }
        var outcome = Outcome(status: -1, output: [], errors: [])
        var open: [Int32] = [out.read, err.read]
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while !open.isEmpty {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 {
                outcome.timedOut = true
                break
            }
            var polls = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&polls, nfds_t(polls.count), Int32(min(left * 1000, 1000).rounded(.up)))
            if ready < 0, errno == EINTR { continue }
            guard ready > 0 else { continue }
            for entry in polls where entry.revents != 0 {
                let count = chunk.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                if count <= 0 {
                    if count < 0, errno == EINTR { continue }
                    close(entry.fd)
                    open.removeAll { $0 == entry.fd }
                } else if entry.fd == out.read {
                    outcome.output.append(contentsOf: chunk[0..<count])
                } else if outcome.errors.count < 1 << 16 {
                    outcome.errors.append(contentsOf: chunk[0..<count])
                }
            }
            if outcome.output.count > maximumOutput {
                outcome.outputTooLong = true
                break
            }
        }
        for descriptor in open { close(descriptor) }
        if outcome.timedOut || outcome.outputTooLong { kill(pid, SIGKILL) }
        outcome.status = Spawn.wait(pid).status
        return outcome
    }
}
