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
