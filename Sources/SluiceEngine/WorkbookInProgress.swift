import Foundation
import SluiceCore
import SluiceSpreadsheet
import SluiceStore

/// A workbook being written, handed between the export and the pool thread writing a page of
/// it; only one of them uses it at a time.
final class WorkbookInProgress: @unchecked Sendable {
    let writer: XLSXWriter
    init(_ writer: XLSXWriter) { self.writer = writer }
}
