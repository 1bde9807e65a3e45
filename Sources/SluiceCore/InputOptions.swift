import Foundation

/// How to read the uploaded files into items.
public struct InputOptions: Sendable, Equatable {
    /// Inferred from each file's name (or the upload's content type) when `nil`.
    public var format: InputFormat?
    /// CSV field separator; one ASCII character.
    public var delimiter: UInt8
    /// For a JSON object file, the member holding the array of records; `nil` finds the one array member.
    public var records: String?
    /// For documents (text, PDF): one item per file, one per blank-line-separated record, or
    /// one per chunk of at most ``chunkChars`` characters.
    public var textMode: TextMode
    /// For a workbook: the sheet to read (its name); the first sheet when `nil`.
    public var sheet: String?
    /// The most characters in one chunk, in `chunks` mode; chunks end at a paragraph (or a
    /// sentence, or a space) when one is near.
    public var chunkChars: Int

    public enum TextMode: String, Sendable {
        case file
        case paragraphs
        case chunks
    }

    public static let defaultChunkChars = 6000

    public init(
        format: InputFormat? = nil, delimiter: UInt8 = UInt8(ascii: ","), records: String? = nil, textMode: TextMode = .file,
        chunkChars: Int = InputOptions.defaultChunkChars, sheet: String? = nil
    ) {
        self.sheet = sheet
        self.format = format
        self.delimiter = delimiter
        self.records = records
        self.textMode = textMode
        self.chunkChars = chunkChars
    }

    init(_ json: JSONValue) throws(SpecError) {
        self.init()
        if json == .null { return }
        guard case .object(let object) = json else { throw SpecError(field: "input", message: "must be an object") }
        for key in object.keys where !["format", "delimiter", "records", "text_mode", "chunk_chars", "sheet"].contains(key) {
            throw SpecError(field: "input.\(key)", message: "unknown input option")
        }
        if let format = object["format"], format != .null {
            guard let name = format.stringValue, let parsed = InputFormat(rawValue: name) else {
                throw SpecError(field: "input.format", message: "must be one of csv, json, jsonl, text, pdf, xlsx, openai_batch")
            }
            self.format = parsed
        }
        if let delimiter = object["delimiter"], delimiter != .null {
            guard let text = delimiter.stringValue, text.utf8.count == 1, let byte = text.utf8.first,
                byte != UInt8(ascii: "\""), byte != 0x0A, byte != 0x0D
            else {
                throw SpecError(field: "input.delimiter", message: "must be one ASCII character other than a quote or newline")
            }
            self.delimiter = byte
        }
        if let records = object["records"], records != .null {
            guard let name = records.stringValue else { throw SpecError(field: "input.records", message: "must be a string") }
            self.records = name
        }
        if let mode = object["text_mode"], mode != .null {
            guard let name = mode.stringValue, let parsed = TextMode(rawValue: name) else {
                throw SpecError(field: "input.text_mode", message: "must be 'file', 'paragraphs' or 'chunks'")
            }
            textMode = parsed
        }
        if let raw = object["sheet"], raw != .null {
            guard let name = raw.stringValue, !name.isEmpty else {
                throw SpecError(field: "input.sheet", message: "must be a sheet's name")
            }
            sheet = name
        }
        if let raw = object["chunk_chars"], raw != .null {
            guard let chars = raw.intValue, (500...200_000).contains(chars) else {
                throw SpecError(field: "input.chunk_chars", message: "must be an integer from 500 to 200000")
            }
            chunkChars = chars
        }
    }

    var json: JSONValue {
        var object = JSONObject()
        if let format { object["format"] = .string(format.rawValue) }
        object["delimiter"] = .string(String(UnicodeScalar(delimiter)))
        if let records { object["records"] = .string(records) }
        object["text_mode"] = .string(textMode.rawValue)
        if textMode == .chunks { object["chunk_chars"] = .int(chunkChars) }
        if let sheet { object["sheet"] = .string(sheet) }
        return .object(object)
    }
}
