import Foundation
import ZIPFoundation

/// What turns a cell's raw value into its text.
struct SheetCells: Sendable {
    var strings: [String]
    var styles: CellStyles
    var date1904: Bool

    func text(type: String?, style: Int?, value: String, inline: String, row: Int) throws(XLSXError) -> String {
        switch type {
        case "s":
            guard let index = Int(value), strings.indices.contains(index) else {
                throw XLSXError("a cell refers to shared string \(value), which the workbook does not have", row: row)
            }
            return strings[index]
        case "inlineStr": return inline
        case "str", "e", "d": return value
        case "b": return value == "1" || value.lowercased() == "true" ? "TRUE" : "FALSE"
        default:
            guard !value.isEmpty else { return "" }
            guard let number = Double(value) else { return value }
            return styles.format(style: style).text(number, date1904: date1904)
        }
    }
}
