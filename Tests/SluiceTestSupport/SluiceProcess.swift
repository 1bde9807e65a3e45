public import Foundation
import SluiceCore

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

    /// Runs to completion in `directory` and returns its exit status (-1 if a signal ended it)
    /// and output.
    public static func run(_ arguments: [String], in directory: URL, environment: [String: String] = [:]) async throws -> Output {
        let outPath = directory.appendingPathComponent("stdout-\(UUID().uuidString)").path
        let errPath = directory.appendingPathComponent("stderr-\(UUID().uuidString)").path
        let child = try ChildProcess(
            binary.path, arguments: arguments, environment: environment, directory: directory.path, output: .file(outPath),
            errors: .file(errPath))
        let termination = try await child.exited()
        return Output(
            status: termination.status, stdout: try String(contentsOfFile: outPath, encoding: .utf8),
            stderr: try String(contentsOfFile: errPath, encoding: .utf8))
    }

    /// Starts it in `directory`, leaving the test to wait for it.
    public static func start(
        _ arguments: [String], in directory: URL, environment: [String: String] = [:], output: ChildProcess.Destination = .discard,
        errors: ChildProcess.Destination = .discard
    ) throws -> ChildProcess {
        try ChildProcess(
            binary.path, arguments: arguments, environment: environment, directory: directory.path, output: output, errors: errors)
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
