import SluiceCore
import SluiceWire

/// libFuzzer target for batch input lines (scripts/fuzz.sh batch-line): a JSONL file read with
/// 64 KiB or 5-byte chunks gives the same lines, and every line that parses is checked as an
/// OpenAI line (chat, embeddings, responses) and as an Anthropic request and, when it passes,
/// made into the model request it asks for — which must then succeed, without a crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBatchLine(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let path = FuzzFile.write(UnsafeBufferPointer(start: start, count: count))
    let whole = lines(path, chunkSize: 64 << 10)
    check(whole == lines(path, chunkSize: 5), "the lines depend on the reader's chunk size")
    for case .record(let record) in whole {
        for endpoints in [BatchEndpoint.openAI, [.messages]] {
            guard case .success = RequestLine.check(record.fields, endpoints: endpoints) else { continue }
            check((try? RequestLine.modelRequest(from: record.fields)) != nil, "a line that passed its check makes no request")
        }
    }
    return 0
}

func lines(_ path: String, chunkSize: Int) -> [IngestStep] {
    var steps: [IngestStep] = []
    do {
        let parser = JSONLinesRecordParser(reader: try ByteReader(path: path, chunkSize: chunkSize))
        while let step = try parser.next() { steps.append(step) }
    } catch {
        steps.append(.problem(error))
    }
    return steps
}
