import Foundation
import ZIPFoundation

/// Number formats by cell style index (`s`), from `styles.xml`'s `cellXfs`.
struct CellStyles: Sendable {
    var formats: [CellFormat] = []

    init() {}

    init(data: Data) throws(XLSXError) {
        var reader = XMLPullReader(data: data)
        var codes: [Int: String] = [:]
        var styleFormats: [Int] = []
        var inCellXfs = false
        while let event = try reader.next() {
            switch event {
            case .start("numFmt", let attributes):
                if let id = attributes["numFmtId"].flatMap(Int.init), let code = attributes["formatCode"] { codes[id] = code }
            case .start("cellXfs", _): inCellXfs = true
            case .end("cellXfs"): inCellXfs = false
            case .start("xf", let attributes) where inCellXfs: styleFormats.append(attributes["numFmtId"].flatMap(Int.init) ?? 0)
            default: break
            }
        }
        formats = styleFormats.map { CellFormat(id: $0, code: codes[$0]) }
    }

    func format(style: Int?) -> CellFormat {
        guard let style, formats.indices.contains(style) else { return .general }
        return formats[style]
    }
}
