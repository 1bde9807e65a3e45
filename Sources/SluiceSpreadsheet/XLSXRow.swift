import Foundation
import ZIPFoundation

/// One row of a sheet: its number (as the spreadsheet shows it) and its cells' text by column,
/// blanks for the gaps.
public struct XLSXRow: Sendable, Equatable {
    public var number: Int
    public var cells: [String]

    public init(number: Int, cells: [String]) {
        self.number = number
        self.cells = cells
    }
}
