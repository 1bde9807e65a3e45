public import SluiceCore

/// Opens the parser for a format.
public enum RecordParsers {
    /// Whether files of `format` are read as whole documents (text extracted, then chunked),
    /// where a file without text fails alone instead of failing the job.
    public static func readsDocuments(format: InputFormat, options: InputOptions) -> Bool {
        format == .pdf || (format == .text && options.textMode == .chunks)
    }

    /// `name` is the file's name as its owner knows it, which documents carry in their records.
    public static func open(path: String, name: String, format: InputFormat, options: InputOptions) throws(InputProblem)
        -> any RecordParser
    {
        if readsDocuments(format: format, options: options) {
            return DocumentRecordParser(name: name, options: options) { () throws(PDFTextExtractor.Failure) in
                format == .pdf ? try PDFTextExtractor().text(ofFileAt: path) : try DocumentRecordParser.readText(path: path)
            }
        }
        if format == .xlsx { return try XLSXRecordParser(path: path, sheet: options.sheet) }
        if format == .zip { return try ZipTableParser(path: path, options: options) }
        let reader = try ByteReader(path: path)
        switch format {
        case .csv: return try CSVRecordParser(reader: reader, delimiter: options.delimiter)
        case .json: return JSONArrayRecordParser(reader: reader, recordsMember: options.records)
        case .jsonl, .openAIBatch, .anthropicBatch: return JSONLinesRecordParser(reader: reader)
        case .text, .pdf, .xlsx, .zip: return TextRecordParser(reader: reader, mode: options.textMode)
        }
    }
}
