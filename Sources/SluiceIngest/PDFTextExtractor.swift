import Foundation

/// Takes the text out of a PDF with poppler's `pdftotext` (Debian's `poppler-utils`), run as a
/// child process — never through a shell, so no file name is ever interpreted — with a time
/// limit and a cap on the text it may produce.
///
/// A PDF that yields no text says why, in words for the person who uploaded it: not a PDF or
/// damaged, locked with a password, copying forbidden, or no text at all (scanned pages).
public struct PDFTextExtractor: Sendable {
    /// The `pdftotext` program; `nil` when it is not installed, and every PDF then fails saying so.
    public var executable: String?
    public var timeoutSeconds: Double
    public var maximumBytes: Int

    public init(
        executable: String? = PDFTextExtractor.locate(), timeoutSeconds: Double = 120,
        maximumBytes: Int = TextRecordParser.maximumDocumentBytes
    ) {
        self.executable = executable
        self.timeoutSeconds = timeoutSeconds
        self.maximumBytes = maximumBytes
    }

    /// `pdftotext` on `PATH` (or the usual Debian place).
    public static func locate() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let candidates = path.split(separator: ":").map { "\($0)/pdftotext" } + ["/usr/bin/pdftotext"]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Why a document gave no text; `message` reads after the file's name.
    public struct Failure: Error, Sendable, Equatable {
        public var message: String
    }

    public func text(ofFileAt path: String) throws(Failure) -> String {
        guard let executable else {
            throw Failure(message: "cannot be read: pdftotext is not installed on the server (Debian package poppler-utils)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        // `-` writes the text to standard output; `--` ends options, so a name starting with `-` is a name.
        process.arguments = ["-enc", "UTF-8", "-nopgbrk", "--", path, "-"]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw Failure(message: "cannot be read: pdftotext did not start (\(error.localizedDescription))")
        }
        // Threads of their own, not dispatch's shared queues: the caller blocks on the pipe, and
        // a busy pool must not be able to delay the time limit or the error reader.
        let timedOut = TimeoutFlag()
        let exited = DispatchSemaphore(value: 0)
        let limit = timeoutSeconds
        Thread.detachNewThread {
            if exited.wait(timeout: .now() + limit) == .timedOut {
                timedOut.set()
                stop(process)
            }
        }
        // Standard error is read on the side so a chatty failure can never fill its pipe and stall.
        let errorText = ErrorCollector(errors.fileHandleForReading)
        var bytes: [UInt8] = []
        var tooLong = false
        while true {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { break }
            bytes.append(contentsOf: data)
            if bytes.count > maximumBytes {
                tooLong = true
                stop(process)
                break
            }
        }
        process.waitUntilExit()
        exited.signal()
        let stderr = errorText.finish()
        if timedOut.isSet { throw Failure(message: "took longer than \(String(format: "%g", timeoutSeconds)) s to read; it was given up") }
        if tooLong { throw Failure(message: "has more than \(maximumBytes / (1 << 20)) MiB of text, the most one document may have") }
        switch process.terminationStatus {
        case 0: break
        case 3: throw Failure(message: "does not allow its text to be copied (its permissions forbid it)")
        default:
            if stderr.localizedCaseInsensitiveContains("password") {
                throw Failure(message: "is encrypted with a password; remove the password and upload it again")
            }
            let detail = stderr.split(whereSeparator: \.isNewline).last.map { ": " + $0.prefix(200) } ?? ""
            throw Failure(message: "cannot be read as a PDF (damaged, or not a PDF)\(detail)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw Failure(message: "gave text that is not valid UTF-8")
        }
        guard text.contains(where: { !$0.isWhitespace }) else {
            throw Failure(message: "has no text to extract (scanned or image-only pages? run OCR on it first)")
        }
        return text
    }
}

/// Kills the extractor outright. Not SIGTERM: a server ignores SIGTERM to handle it itself
/// (ServiceLifecycle), and an ignored signal stays ignored in the children it starts.
func stop(_ process: Process) {
    kill(process.processIdentifier, SIGKILL)
}

/// Set once from the timer's thread, read after the process ended.
final class TimeoutFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}

/// Reads a pipe to its end on a thread of its own.
final class ErrorCollector: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var data = Data()

    init(_ handle: FileHandle) {
        Thread.detachNewThread {
            // Written here only, read in `finish()` after `done` — never at the same time.
            self.data = handle.readDataToEndOfFile()
            self.done.signal()
        }
    }

    func finish() -> String {
        done.wait()
        return String(decoding: data, as: UTF8.self)
    }
}
