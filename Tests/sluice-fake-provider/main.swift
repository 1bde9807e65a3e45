import Foundation
import SluiceFakeProvider

/// The fake OpenAI/Anthropic-compatible provider as a process, for tests and benchmarks that
/// run Sluice as a server (the SDK test, `wrk`). Prints `port N` once listening; stops on SIGTERM.
///
///     sluice-fake-provider [--latency-ms MS] [--rpm N]
var behaviour = FakeProviderBehaviour()
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    guard let value = arguments.popFirst().flatMap(Double.init) else {
        FileHandle.standardError.write(Data("usage: sluice-fake-provider [--latency-ms MS] [--rpm N]\n".utf8))
        exit(64)
    }
    switch flag {
    case "--latency-ms": behaviour.latency = value / 1000...value / 1000
    case "--rpm": behaviour.requestsPerMinute = value
    default:
        FileHandle.standardError.write(Data("unknown option \(flag)\n".utf8))
        exit(64)
    }
}
let server = try await FakeProviderServer(behaviour: behaviour)
FileHandle.standardOutput.write(Data("port \(server.port)\n".utf8))
signal(SIGTERM, SIG_IGN)
let stop = DispatchSource.makeSignalSource(signal: SIGTERM)
let stream = AsyncStream<Void> { continuation in
    stop.setEventHandler { continuation.finish() }
    stop.resume()
}
for await _ in stream {}
try await server.stop()
