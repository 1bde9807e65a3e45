import Foundation
import SluiceFakeProvider

/// The fake OpenAI/Anthropic-compatible provider as a process, for tests and benchmarks that
/// run Sluice as a server (the SDK test, `wrk`, the fault benchmark). Prints `port N` once
/// listening; `GET /_fake/counters` answers what it saw as JSON; stops on SIGTERM.
let usage = """
    usage: sluice-fake-provider [--latency-ms MS] [--latency-spread-ms MS] [--rpm N] [--tpm N] (0: no limit)
                                [--window sliding|per-second|bucket] [--no-limit-headers]
                                [--fault-500 SHARE] [--fault-503 SHARE] [--fault-hang SHARE] [--hang-seconds S]
                                [--fault-malformed SHARE] [--pack-drop SHARE] [--pack-duplicate SHARE] [--pack-swap SHARE]
                                [--pack-wrong-key SHARE] [--pack-invalid SHARE] [--reasoning-tokens N]
                                [--flex-unavailable SHARE] [--seed N]

    """
var behaviour = FakeProviderBehaviour()
var latency = 0.0
var spread = 0.0
var seed: UInt64 = 42
var arguments = CommandLine.arguments.dropFirst()

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n" + usage).utf8))
    exit(64)
}

while let flag = arguments.popFirst() {
    if flag == "--help" || flag == "-h" {
        print(usage, terminator: "")
        exit(0)
    }
    if flag == "--no-limit-headers" {
        behaviour.sendsLimitHeaders = false
        continue
    }
    guard let text = arguments.popFirst() else { fail("\(flag) needs a value") }
    if flag == "--window" {
        switch text {
        case "sliding": behaviour.limitWindow = .slidingMinute
        case "per-second": behaviour.limitWindow = .perSecond
        case "bucket": behaviour.limitWindow = .bucket
        default: fail("unknown window \(text)")
        }
        continue
    }
    guard let value = Double(text), value >= 0 else { fail("\(flag) takes a number, not '\(text)'") }
    if flag.hasPrefix("--fault-") || flag.hasPrefix("--pack-"), value > 1 {
        fail("\(flag) is a share of requests, from 0 to 1, not \(text)")
    }
    switch flag {
    case "--latency-ms": latency = value / 1000
    case "--latency-spread-ms": spread = value / 1000
    // 0: no limit, as Sluice's own limits read it.
    case "--rpm": behaviour.requestsPerMinute = value > 0 ? value : nil
    case "--tpm": behaviour.tokensPerMinute = value > 0 ? value : nil
    case "--fault-500": behaviour.faultRates[.internalError] = value
    case "--fault-503": behaviour.faultRates[.unavailable] = value
    case "--fault-hang": behaviour.faultRates[.hang] = value
    case "--hang-seconds": behaviour.hangSeconds = value
    case "--fault-malformed": behaviour.faultRates[.malformedBody] = value
    case "--pack-drop": behaviour.packFaultRates[.dropRow] = value
    case "--pack-duplicate": behaviour.packFaultRates[.duplicateRow] = value
    case "--pack-swap": behaviour.packFaultRates[.swapRows] = value
    case "--pack-wrong-key": behaviour.packFaultRates[.wrongKey] = value
    case "--pack-invalid": behaviour.packFaultRates[.invalidRow] = value
    case "--reasoning-tokens": behaviour.reasoningTokens = Int(value)
    case "--flex-unavailable": behaviour.flexUnavailableRate = value
    case "--seed": seed = UInt64(value)
    default: fail("unknown option \(flag)")
    }
}
if behaviour.faultRates.values.reduce(0, +) > 1 { fail("the fault shares add up to more than 1") }
if behaviour.packFaultRates.values.reduce(0, +) > 1 { fail("the pack fault shares add up to more than 1") }
behaviour.latency = max(0, latency - spread)...(latency + spread)
let server = try await FakeProviderServer(behaviour: behaviour, seed: seed)
FileHandle.standardOutput.write(Data("port \(server.port)\n".utf8))
signal(SIGTERM, SIG_IGN)
let stop = DispatchSource.makeSignalSource(signal: SIGTERM)
let stream = AsyncStream<Void> { continuation in
    stop.setEventHandler { continuation.finish() }
    stop.resume()
}
for await _ in stream {}
try await server.stop()
