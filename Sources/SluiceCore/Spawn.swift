import Foundation

#if canImport(Glibc)
    public import Glibc
#endif

/// Starts a program directly with `posix_spawn` — never a shell, never Foundation's `Process`.
///
/// `Process` on Linux (Swift 6.3) reads past a buffer while finding the descriptors to close
/// in the child (swift-corelibs-foundation #5472) and monitors children from a run-loop thread
/// of its own; both crashed whole test runs. Here the child closes every descriptor above
/// stderr itself (`posix_spawn_file_actions_addclosefrom_np`), so a pipe another thread is
/// opening at that moment never leaks into it, and it starts with default signal handling and
/// no blocked signals, whatever the parent ignores (a server ignores SIGTERM to handle it itself,
/// and an ignored signal stays ignored across `exec`).
public enum Spawn {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String

        public init(description: String) { self.description = description }
    }

    /// How a child ended, from `waitpid`'s status.
    public enum Termination: Equatable, Sendable {
        case exited(Int32)
        case signalled(Int32)

        public init(waitStatus status: Int32) {
            // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import as macros.
            self = (status & 0x7f) == 0 ? .exited((status >> 8) & 0xff) : .signalled(status & 0x7f)
        }

        /// The exit status, or -1 for a child a signal ended.
        public var status: Int32 {
            if case .exited(let code) = self { return code }
            return -1
        }
    }

    /// Starts `executable` with `arguments` and exactly `environment` (`NAME=value` entries),
    /// in `directory` when given; its standard input is `input` (or /dev/null) and its output
    /// and errors go to the descriptors given, which stay open here. Returns the child's pid:
    /// the caller waits for it (`waitpid`).
    public static func start(
        _ executable: String, arguments: [String], environment: [String], directory: String? = nil, input: Int32? = nil,
        output: Int32, errors: Int32
    ) throws(Failure) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let input {
            posix_spawn_file_actions_adddup2(&actions, input, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_adddup2(&actions, output, 1)
        posix_spawn_file_actions_adddup2(&actions, errors, 2)
        guard let closeFrom = GNU.closeFrom, let changeDirectory = GNU.changeDirectory else {
            throw Failure(description: "this C library lacks posix_spawn_file_actions_addclosefrom_np / addchdir_np (glibc 2.34 or later)")
        }
        _ = closeFrom(&actions, 3)
        if let directory { _ = changeDirectory(&actions, directory) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let envp = environment.map { strdup($0) } + [nil]
        defer { for pointer in envp { free(pointer) } }
        var pid: pid_t = 0
        var spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        // A program file just written is "busy" while a child another thread forked in the
        // meantime still holds it open for writing: that passes in moments, so try again.
        for attempt in 1...5 where spawned == ETXTBSY {
            usleep(UInt32(20_000 * attempt))
            spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        }
        guard spawned == 0 else { throw Failure(description: "\(executable): \(String(cString: strerror(spawned)))") }
        return pid
    }

    /// A pipe whose two ends are closed on `exec` from the moment they exist (`pipe2`), so no
    /// child another thread starts holds them open.
    public static func pipe() throws(Failure) -> (read: Int32, write: Int32) {
        var ends: [Int32] = [0, 0]
        guard let pipe2 = GNU.pipe2, pipe2(&ends, O_CLOEXEC) == 0 else {
            throw Failure(description: "pipe: \(String(cString: strerror(errno)))")
        }
        return (ends[0], ends[1])
    }

    /// Waits for `pid` to end (retrying an interrupted wait) and reaps it.
    public static func wait(_ pid: pid_t) -> Termination {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        return Termination(waitStatus: status)
    }

    /// glibc's GNU extensions, which its headers declare only for `_GNU_SOURCE`: found at run time.
    private enum GNU {
        typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32
        typealias ChangeDirectory = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, UnsafePointer<CChar>?) -> Int32
        typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>?, Int32) -> Int32

        static let closeFrom: CloseFrom? = symbol("posix_spawn_file_actions_addclosefrom_np")
        static let changeDirectory: ChangeDirectory? = symbol("posix_spawn_file_actions_addchdir_np")
        static let pipe2: Pipe2? = symbol("pipe2")

        private static func symbol<T>(_ name: String) -> T? {
            dlsym(UnsafeMutableRawPointer(bitPattern: 0), name).map { unsafeBitCast($0, to: T.self) }
        }
    }
}
