import SluiceCore

/// libFuzzer target for the CSV parser (scripts/fuzz.sh csv): any bytes read as the same records
/// and problems whether the reader's chunks are 64 KiB or 7 bytes — chunk edges fall inside
/// quotes, CRLFs and UTF-8 sequences — and every problem names a line within the input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: start, count: count)
    let path = FuzzFile.write(bytes)
    let whole = read(path, chunkSize: 64 << 10)
    let small = read(path, chunkSize: 7)
    check(whole == small, "64 KiB chunks read \(whole), 7-byte chunks \(small)")
    // Lines end at LF, CRLF or a lone CR, as the parser counts them.
    let lines =
        bytes.indices.count { index in
            bytes[index] == 0x0A || (bytes[index] == 0x0D && (index + 1 == bytes.count || bytes[index + 1] != 0x0A))
        } + 1
    for case .problem(let problem) in whole.steps {
        check((problem.line ?? 1) <= lines, "problem at line \(problem.line ?? 0) of \(lines)")
    }
    return 0
}

struct Reading: Equatable {
    var header: [String]?
    var steps: [IngestStep] = []
    var ended: InputProblem?
}

func read(_ path: String, chunkSize: Int) -> Reading {
    var reading = Reading()
    do {
        let parser = try CSVRecordParser(reader: try ByteReader(path: path, chunkSize: chunkSize))
        reading.header = parser.header
        while let step = try parser.next() { reading.steps.append(step) }
    } catch {
        reading.ended = error
    }
    return reading
}
