public import Foundation
public import SluiceCore
import Synchronization

/// A program the tests start as a child process (``Spawn``, not Foundation's `Process`, which
/// crashes test runs on Swift 6.3), its end awaited by a thread of its own.
///
/// Its environment is exactly what the test gives plus `PATH`: a developer's own keys must not
/// change what a test sees. A child still running when its last reference goes is killed —
/// one left by a failed test would outlive the suite.
public final class ChildProcess: Sendable {
    /// Where one of the child's output streams goes.
    public enum Destination: Sendable {
        case discard
        /// A file, created or emptied.
        case file(String)
        /// A pipe the test reads with ``readOutput(until:)`` / ``readErrors(until:)``.
        case pipe
        /// The same place as its standard output (for its errors only).
        case output
    }

    public let pid: pid_t
    private let name: String
    private let ended = Ended()
    private let outputPipe: Int32?
    private let errorsPipe: Int32?

    /// What the waiting thread learns and ``exited()`` awaits; not the child itself, so a
    /// child nobody refers to any more is still killed.
    private final class Ended: Sendable {
        let termination = Mutex<Spawn.Termination?>(nil)
        let latch = Latch()
    }

    public init(
        _ executable: String, arguments: [String], environment: [String: String] = [:], directory: String? = nil,
        output: Destination = .discard, errors: Destination = .discard
    ) throws {
        name = "\(URL(fileURLWithPath: executable).lastPathComponent) \(arguments.joined(separator: " "))"
        var opened: [Int32] = []
        defer { for descriptor in opened { close(descriptor) } }
        func open(_ destination: Destination, sameAs output: Int32?) throws -> (child: Int32, pipe: Int32?) {
            switch destination {
            case .discard,
                .output where output == nil:
                let descriptor = Glibc.open("/dev/null", O_WRONLY | O_CLOEXEC)
                opened.append(descriptor)
                return (descriptor, nil)
            case .output:
                return (output!, nil)
            case .file(let path):
                let descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
                guard descriptor >= 0 else { throw Spawn.Failure(description: "\(path): \(String(cString: strerror(errno)))") }
                opened.append(descriptor)
                return (descriptor, nil)
            case .pipe:
                let ends = try Spawn.pipe()
                opened.append(ends.write)
                return (ends.write, ends.read)
            }
        }
        let out = try open(output, sameAs: nil)
        let err = try open(errors, sameAs: out.child)
        let variables = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"].merging(environment) { $1 }
        do {
            pid = try Spawn.start(
                executable, arguments: arguments, environment: variables.map { "\($0.key)=\($0.value)" }, directory: directory,
                output: out.child, errors: err.child)
        } catch {
            for descriptor in [out.pipe, err.pipe].compactMap({ $0 }) { close(descriptor) }
            throw error
        }
        outputPipe = out.pipe
        errorsPipe = err.pipe
        let (pid, ended) = (pid, ended)
        Thread {
            let termination = Spawn.wait(pid)
            ended.termination.withLock { $0 = termination }
            ended.latch.open()
        }.start()
    }

    deinit {
        if isRunning { kill(pid, SIGKILL) }
        for descriptor in [outputPipe, errorsPipe].compactMap({ $0 }) { close(descriptor) }
    }

    /// How it ended; nil while it runs.
    public var termination: Spawn.Termination? { ended.termination.withLock { $0 } }

    public var isRunning: Bool { termination == nil }

    /// Sends `signal` unless it has already ended (its pid may be another process's by then).
    public func signal(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Returns how it ended, once it has. One still running after ``hangLimit`` is killed and
    /// the wait fails.
    @discardableResult
    public func exited() async throws -> Spawn.Termination {
        let ended = await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await self.ended.latch.wait()
                return true
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(hangLimit))
                return false
            }
            let ended = await group.next() ?? false
            // The latch opens once the killed process is gone.
            if !ended { self.signal(SIGKILL) }
            group.cancelAll()
            return ended
        }
        guard ended, let termination else { throw WaitTimeout(what: "\(name) to exit") }
        return termination
    }

    /// Reads its standard output (a ``Destination/pipe``) until `enough` holds for everything
    /// read so far or the child closes it; returns what was read.
    public func readOutput(until enough: @escaping @Sendable (String) -> Bool = { _ in false }) async throws -> String {
        try await read(outputPipe, until: enough)
    }

    /// Reads its errors (a ``Destination/pipe``) as ``readOutput(until:)`` does.
    public func readErrors(until enough: @escaping @Sendable (String) -> Bool = { _ in false }) async throws -> String {
        try await read(errorsPipe, until: enough)
    }

    private func read(_ descriptor: Int32?, until enough: @escaping @Sendable (String) -> Bool) async throws -> String {
        guard let descriptor else { preconditionFailure("\(name): that stream is not a pipe") }
        return try await blocking {
            var seen = ""
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while !enough(seen) {
                let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                if count <= 0 { break }
                seen += String(decoding: chunk[0..<count], as: UTF8.self)
            }
            return seen
        }
    }
}
