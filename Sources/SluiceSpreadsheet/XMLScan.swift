import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The start tags of a small XML document (a workbook's part list, its styles), with their
/// attributes, in order — all that is needed of the parts that are not the sheet itself.
enum XMLScan {
    struct Tag {
        var name: String
        var attributes: [String: String]
    }

    static func tags(in data: Data, named names: Set<String>) throws(XLSXError) -> [Tag] {
        let delegate = TagCollector(names: names)
        let parser = XMLParser(data: data)
        parser.delegate = delegate
        guard parser.parse() else { throw XLSXError("the workbook is damaged (an XML part cannot be read)") }
        return delegate.tags
    }

    /// Local names only: `x:sheet` and `sheet` are the same element.
    static func localName(_ name: String) -> String {
        name.split(separator: ":").last.map(String.init) ?? name
    }
}

final class TagCollector: NSObject, XMLParserDelegate {
    let names: Set<String>
    var tags: [XMLScan.Tag] = []

    init(names: Set<String>) { self.names = names }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        let name = XMLScan.localName(elementName)
        if names.contains(name) { tags.append(XMLScan.Tag(name: name, attributes: attributes)) }
    }
}

/// The shared strings of a workbook, in order: each `<si>`'s text, its rich-text runs joined,
/// phonetic hints (`<rPh>`) left out.
final class SharedStringsCollector: NSObject, XMLParserDelegate {
    var strings: [String] = []
    var current = ""
    var inText = false
    var inPhonetic = false

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        switch XMLScan.localName(elementName) {
        case "si": current = ""
        case "t": inText = !inPhonetic
        case "rPh": inPhonetic = true
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inText { current += string }
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        switch XMLScan.localName(elementName) {
        case "si": strings.append(current)
        case "t": inText = false
        case "rPh": inPhonetic = false
        default: break
        }
    }
}
