import SluiceCore
import SluiceTestSupport

@testable import SluiceIngest

/// Everything a parser produced from one file.
struct ParseResult {
    var records: [IngestRecord] = []
    var problems: [InputProblem] = []
    var fatal: InputProblem?

    var rows: [[String]] { records.map { $0.fields.map { $0.value.plainText } } }
    var lines: [Int] { records.map(\.line) }

    /// Parses `contents` as `format` with every chunk size given, and checks each size gives
    /// the same result (chunk boundaries must not change what is read).
    static func of(
        _ contents: [UInt8], format: InputFormat, options: InputOptions = InputOptions(), chunkSizes: [Int] = [1, 3, 7, 64 * 1024]
    ) -> ParseResult {
        let directory = TemporaryDirectory()
        let path = directory.write("input", bytes: contents)
        let results = chunkSizes.map { size in parse(path: path, format: format, options: options, chunkSize: size) }
        for result in results.dropFirst() where result != results[0] {
            fatalError("chunk size changed the result: \(result) vs \(results[0])")
        }
        return results[0]
    }

    static func of(_ text: String, format: InputFormat, options: InputOptions = InputOptions()) -> ParseResult {
        of(Array(text.utf8), format: format, options: options)
    }

    static func parse(path: String, format: InputFormat, options: InputOptions, chunkSize: Int) -> ParseResult {
        var result = ParseResult()
        do {
            let reader = try ByteReader(path: path, chunkSize: chunkSize)
            let parser: any RecordParser =
                switch format {
                case .csv: try CSVRecordParser(reader: reader, delimiter: options.delimiter)
                case .json: JSONArrayRecordParser(reader: reader, recordsMember: options.records)
                case .jsonl, .openAIBatch, .anthropicBatch: JSONLinesRecordParser(reader: reader)
                case .text, .pdf, .xlsx, .zip: TextRecordParser(reader: reader, mode: options.textMode)
                }
            while let step = try parser.next() {
                switch step {
                case .record(let record): result.records.append(record)
                case .problem(let problem): result.problems.append(problem)
                case .failedDocument(let message): result.problems.append(InputProblem(message: message))
                }
            }
        } catch {
            result.fatal = error
        }
        return result
    }
}

extension ParseResult: Equatable {}
