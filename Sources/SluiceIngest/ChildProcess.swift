import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a program directly (`posix_spawn`, never a shell) and collects what it writes, within a
/// time limit and a cap on its output — on the calling thread, with no helper threads.
///
/// Not Foundation's `Process`: on Linux it monitors children from a run-loop thread of its
/// own, which crashed the test process when several ran at once; this needs only `poll` and
/// `waitpid`. A child past its limit is killed with SIGKILL — a server ignores SIGTERM to
/// handle it itself (ServiceLifecycle), and an ignored signal stays ignored in its children.
///
/// The child gets a minimal environment (``environment``), never the server's — which holds
/// provider keys, storage secrets and the database password — and limits on its memory, CPU
/// time and the files it may write (``limits``), set the moment it starts.
enum ChildProcess {
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
        var outPipe: [Int32] = [0, 0]
        var errPipe: [Int32] = [0, 0]
        guard pipe(&outPipe) == 0, pipe(&errPipe) == 0 else { throw LaunchError(description: String(cString: strerror(errno))) }
        // Close-on-exec, so children other threads start never hold these pipes open (`pipe2`,
        // which sets it at once, is not visible to Swift here).
        for descriptor in outPipe + errPipe { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        for descriptor in outPipe + errPipe { posix_spawn_file_actions_addclose(&actions, descriptor) }
        // The child starts with default signal handling, whatever this process ignores.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let environment = Self.environment.map { strdup($0) } + [nil]
        defer { for pointer in environment { free(pointer) } }
        var pid: pid_t = 0
        var spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, environment)
        // A program file just written is "busy" while a child another thread forked in the
        // meantime still holds it open for writing: that passes in moments, so try again.
        for attempt in 1...5 where spawned == ETXTBSY {
            usleep(UInt32(20_000 * attempt))
            spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, environment)
        }
        if spawned == 0, let prlimit = Self.prlimit {
            for limit in Self.limits {
                var value = rlimit(rlim_cur: limit.value, rlim_max: limit.value)
                _ = prlimit(pid, limit.resource, &value, nil)
            }
        }
        close(outPipe[1])
        close(errPipe[1])
        guard spawned == 0 else {
            close(outPipe[0])
            close(errPipe[0])
            throw LaunchError(description: String(cString: strerror(spawned)))
        }
        var outcome = Outcome(status: -1, output: [], errors: [])
        var open: [Int32] = [outPipe[0], errPipe[0]]
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
                } else if entry.fd == outPipe[0] {
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
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        // WIFEXITED / WEXITSTATUS, which Swift does not import as macros.
        outcome.status = (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1
        return outcome
    }
}
