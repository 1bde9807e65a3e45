/// Why a workbook cannot be read or written, in words for the person who uploaded it.
public struct XLSXError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    /// The sheet row the problem is on, when there is one.
    public var row: Int?

    public init(_ message: String, row: Int? = nil) {
        self.message = message
        self.row = row
    }

    public var description: String { row.map { "row \($0): \(message)" } ?? message }
}

/// Spreadsheet column letters: `A` is 1, `Z` 26, `AA` 27.
public enum XLSXColumn {
    public static func name(_ number: Int) -> String {
        var number = number
        var name = ""
        while number > 0 {
            name = String(UnicodeScalar(UInt8(65 + (number - 1) % 26))) + name
            number = (number - 1) / 26
        }
        return name
    }

    /// The column of a cell reference: `C7` → 3, `AB12` → 28.
    public static func number(ofReference reference: String) -> Int? {
        var column = 0
        for scalar in reference.unicodeScalars {
            guard scalar.value >= 65, scalar.value <= 90 else { break }
            column = column * 26 + Int(scalar.value - 64)
        }
        return column == 0 ? nil : column
    }
}
