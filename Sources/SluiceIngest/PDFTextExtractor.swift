import Foundation

/// Takes the text out of a PDF with poppler's `pdftotext` (Debian's `poppler-utils`), run as a
/// child process (``Sandbox``) — never through a shell, so no file name is ever
/// interpreted — with a time limit and a cap on the text it may produce.
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
        maximumBytes: Int = RecordLimit.bytes
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
        // `-` writes the text to standard output; `--` ends options, so a name starting with `-` is a name.
        let run: Sandbox.Outcome
        do {
            run = try Sandbox.run(
                executable, arguments: ["-enc", "UTF-8", "-nopgbrk", "--", path, "-"], timeoutSeconds: timeoutSeconds,
                maximumOutput: maximumBytes)
        } catch {
            throw Failure(message: "cannot be read: pdftotext did not start (\(error))")
        }
        if run.timedOut { throw Failure(message: "took longer than \(String(format: "%g", timeoutSeconds)) s to read; it was given up") }
        if run.outputTooLong {
            throw Failure(message: "has more than \(maximumBytes / (1 << 20)) MiB of text, the most one document may have")
        }
        let stderr = String(decoding: run.errors, as: UTF8.self)
        switch run.status {
        case 0: break
        case 3: throw Failure(message: "does not allow its text to be copied (its permissions forbid it)")
        default:
            if stderr.localizedCaseInsensitiveContains("password") {
                throw Failure(message: "is encrypted with a password; remove the password and upload it again")
            }
            let detail = stderr.split(whereSeparator: \.isNewline).last.map { ": " + $0.prefix(200) } ?? ""
            throw Failure(message: "cannot be read as a PDF (damaged, or not a PDF)\(detail)")
        }
        guard let text = String(validating: run.output, as: UTF8.self) else {
            throw Failure(message: "gave text that is not valid UTF-8")
        }
        guard text.contains(where: { !$0.isWhitespace }) else {
            throw Failure(message: "has no text to extract (scanned or image-only pages? run OCR on it first)")
        }
        return text
    }
}
