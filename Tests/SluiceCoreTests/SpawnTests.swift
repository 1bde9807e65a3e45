import Foundation
import SluiceCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Children started with ``Spawn``: what they inherit and how their end is read.
@Suite struct SpawnTests {
    /// Runs `arguments` (a program and its arguments) to the end; returns its standard output and termination.
    func run(_ arguments: [String], in directory: String? = nil) throws -> (output: String, termination: Spawn.Termination) {
        let out = try Spawn.pipe()
        let pid: pid_t
        do {
            defer { close(out.write) }
            pid = try Spawn.start(
                arguments[0], arguments: Array(arguments.dropFirst()), environment: ["PATH=/usr/bin:/bin"], directory: directory,
                output: out.write, errors: out.write)
        }
        defer { close(out.read) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(out.read, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { break }
            output += chunk[0..<count]
        }
        return (String(decoding: output, as: UTF8.self), Spawn.wait(pid))
    }

    @Test func aChildHoldsNoDescriptorOfOursBeyondItsThreeStreams() throws {
        // A pipe opened without close-on-exec, as a library on another thread might.
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        defer { for descriptor in ends { close(descriptor) } }
        let listed = try run(["/bin/ls", "/proc/self/fd"])
        #expect(listed.termination == .exited(0))
        // Its three streams, and the directory `ls` opened to list (the lowest number free).
        #expect(listed.output.split(separator: "\n") == ["0", "1", "2", "3"], "\(listed.output)")
    }

    @Test func aChildStartsWithNoSignalIgnoredOrBlocked() throws {
        // Swift's networking ignores SIGPIPE in this process; a child must not inherit that.
        signal(SIGPIPE, SIG_IGN)
        let status = try run(["/bin/grep", "-E", "^Sig(Ign|Blk):", "/proc/self/status"])
        #expect(status.termination == .exited(0))
        let masks = Dictionary(
            uniqueKeysWithValues: status.output.split(separator: "\n").map { line in
                let parts = line.split(separator: "\t")
                return (String(parts[0]), UInt64(parts[1], radix: 16) ?? .max)
            })
        // The standard signals, 1 to 31 (bit n − 1 is signal n). glibc keeps its own real-time
        // signals out of any set a program can name, so a child inherits what is done with them.
        #expect(masks["SigBlk:"].map { $0 & 0x7FFF_FFFF } == 0, "\(status.output)")
        #expect(masks["SigIgn:"].map { $0 & 0x7FFF_FFFF } == 0, "\(status.output)")
    }

    @Test func howAChildEndedIsRead() throws {
        #expect(try run(["/bin/sh", "-c", "exit 3"]).termination == .exited(3))
        #expect(try run(["/bin/sh", "-c", "kill -KILL $$"]).termination == .signalled(SIGKILL))
        #expect(Spawn.Termination.signalled(SIGKILL).status == -1)
        #expect(try run(["/bin/pwd"], in: "/usr/share").output == "/usr/share\n")
    }

    @Test func aProgramThatIsNotThereIsAnErrorNamingIt() throws {
        let out = try Spawn.pipe()
        defer { for descriptor in [out.read, out.write] { close(descriptor) } }
        #expect {
            _ = try Spawn.start("/nonexistent/program", arguments: [], environment: [], output: out.write, errors: out.write)
        } throws: { ($0 as? Spawn.Failure)?.description == "/nonexistent/program: No such file or directory" }
    }
}
