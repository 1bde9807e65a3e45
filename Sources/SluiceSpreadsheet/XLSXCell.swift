import Foundation
import ZIPFoundation

/// One cell to write: text, a number, a truth value, or nothing.
public enum XLSXCell: Sendable, Equatable {
    case empty
    case text(String)
    case number(Double)
    case bool(Bool)
}
