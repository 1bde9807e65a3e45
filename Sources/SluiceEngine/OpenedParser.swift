import Foundation
import NIOPosix
import SluiceCore
import SluiceIngest
import SluiceStorage
import SluiceStore

/// A parser handed between the ingest and the pool thread parsing for it; only one of them uses
/// it at a time.
struct OpenedParser: @unchecked Sendable {
    let parser: any RecordParser
}
