public import Foundation
import Synchronization

/// The built `sluice` executable, run as a real child process.
public struct SluiceProcess {
    /// The binary sits beside the test bundle in the build folder.
    public static let binary: URL = {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("sluice")
        if FileManager.default.isExecutableFile(atPath: beside.path) { return beside }
        return Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("sluice")
    }()

    public struct Output: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs to completion and returns its exit status and output. The wait is on a thread of
    /// its own (see ``blocking(_:)``).
    public static func run(_ arguments: [String], in directory: URL, environment: [String: String] = [:]) async throws -> Output {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        // Only what the test says: a developer's own keys must not change what a test sees.
        process.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"].merging(environment) { $1 }
        process.currentDirectoryURL = directory
        let outURL = directory.appendingPathComponent("stdout-\(UUID().uuidString)")
        let errURL = directory.appendingPathComponent("stderr-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        try process.start()
        try await process.exited()
        return Output(
            status: process.terminationStatus, stdout: try String(contentsOf: outURL, encoding: .utf8),
            stderr: try String(contentsOf: errURL, encoding: .utf8))
    }
}

/// Runs blocking work (waiting for a child process, reading a pipe) on a thread of its own.
///
/// Never on the cooperative pool: it has one thread per core — two here — and every in-process
/// server, worker and store of the whole test run shares them, so a test blocking one of them
/// for a child's lifetime stalls all the others.
public func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}

/// Lets a `FileHandle` cross into ``blocking(_:)``: only that thread reads it.
private struct Unchecked<T>: @unchecked Sendable {
    let value: T
}

/// The latch each process started by ``Foundation/Process/start()`` opens when it ends.
private let exits = Mutex<[ObjectIdentifier: Latch]>([:])

extension Process {
    /// Starts the process so that ``exited()`` can wait for its end: its termination handler
    /// opens a latch. (Foundation's `waitUntilExit` spins a run loop, burning a core's share
    /// of CPU per waiting thread in `getpid` calls.)
    public func start() throws {
        let latch = Latch()
        exits.withLock { $0[ObjectIdentifier(self)] = latch }
        terminationHandler = { _ in latch.open() }
        try run()
    }

    /// Returns when a process started by ``start()`` has ended. One still running after
    /// ``hangLimit`` is killed and the wait fails.
    public func exited() async throws {
        guard let latch = exits.withLock({ $0[ObjectIdentifier(self)] }) else {
            preconditionFailure("exited() waits only for a process started by start()")
        }
        let pid = processIdentifier
        let ended = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                await latch.wait()
                return true
            }
            group.addTask {
                try await Task.sleep(for: .seconds(hangLimit))
                return false
            }
            let ended = try await group.next() ?? false
            // The latch opens once the killed process is gone.
            if !ended { kill(pid, SIGKILL) }
            group.cancelAll()
            return ended
        }
        if !ended { throw WaitTimeout(what: "\(executableURL?.lastPathComponent ?? "a child process") \(arguments ?? []) to exit") }
    }
}

extension FileHandle {
    /// Reads until `enough` holds for everything read so far or the other end closes, on a
    /// thread of its own (see ``blocking(_:)``); returns what was read.
    public func read(until enough: @escaping @Sendable (String) -> Bool) async -> String {
        let handle = Unchecked(value: self)
        return
            (try? await blocking {
                var seen = ""
                while !enough(seen) {
                    let chunk = handle.value.availableData
                    if chunk.isEmpty { break }
                    seen += String(decoding: chunk, as: UTF8.self)
                }
                return seen
            }) ?? ""
    }

    /// Everything until the other end closes, read on a thread of its own.
    public func readRest() async -> String {
        await read { _ in false }
    }
}
