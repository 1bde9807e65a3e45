import Foundation

/// An image a prompt carries after its text: a URL the provider fetches (Sluice never does), or
/// the image's bytes sent inline, their format read from the bytes themselves.
public struct ImagePart: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        case url(String)
        case inline(ImageProbe, [UInt8])
    }

    public var source: Source
    /// OpenAI's `detail` (`low`, `high` or `auto`); nil leaves it to the provider.
    public var detail: String?

    public init(source: Source, detail: String? = nil) {
        self.source = source
        self.detail = detail
    }

    /// The size of the largest image either provider takes inline (OpenAI's 20 MB; Anthropic's
    /// is 5 MB, which its provider checks).
    public static let largestInline = 20 << 20

    /// Why a row's image cannot be sent; the row alone fails, with this reason.
    public struct Refusal: Error, Equatable, CustomStringConvertible {
        public var description: String

        public init(description: String) {
            self.description = description
        }
    }

    /// What a cell naming an image holds.
    public enum Cell: Equatable {
        case url(String)
        case dataURI(String)
        /// The path of a file uploaded with the table, in a zip.
        case path(String)
    }

    /// A cell's kind, by its text: `http(s)://` is a URL, `data:` a data URI, anything else a
    /// path (leading and trailing spaces never count).
    public static func cell(_ text: String) -> Cell {
        let value = text.trimmingCharacters(in: .whitespaces)
        let lowered = value.prefix(8).lowercased()
        if lowered.hasPrefix("http://") || lowered.hasPrefix("https://") { return .url(value) }
        if lowered.hasPrefix("data:") { return .dataURI(value) }
        return .path(value)
    }

    /// Reads a cell naming an image: an `http(s)://` URL, passed on as it is; a `data:` URI
    /// with base64 bytes of a PNG, JPEG, GIF or WebP image — known by its bytes, whatever the URI
    /// says; or the path of a file uploaded with the table, whose image `files` holds (read from
    /// the upload before the prompt is built). Anything else is refused, saying what the cell holds.
    public static func read(cell: String, detail: String? = nil, files: [String: Source]? = nil) throws(Refusal) -> ImagePart {
        switch Self.cell(cell) {
        case .url(let value):
            guard URL(string: value)?.host?.isEmpty == false else { throw Refusal(description: "'\(clipped(value))' is not a valid URL") }
            return ImagePart(source: .url(value), detail: detail)
        case .dataURI(let value):
            return ImagePart(source: try inline(dataURI: value), detail: detail)
        case .path(let path):
            guard let files else { throw Refusal(description: "'\(clipped(path))' is neither an http(s) URL nor a data: URI") }
            guard let source = files[path] else { throw Refusal(description: "'\(clipped(path))' was not read from the upload") }
            return ImagePart(source: source, detail: detail)
        }
    }

    /// A `data:` URI's image.
    static func inline(dataURI value: String) throws(Refusal) -> Source {
        guard let comma = value.firstIndex(of: ","),
            value[value.index(value.startIndex, offsetBy: 5)..<comma].lowercased().hasSuffix(";base64")
        else { throw Refusal(description: "a data: URI of an image must be base64 (data:image/png;base64,…)") }
        let encoded = value[value.index(after: comma)...]
        // Decoded, base64 is three bytes for every four characters.
        guard encoded.utf8.count / 4 * 3 <= largestInline else {
            throw Refusal(description: "the image is over \(largestInline >> 20) MB, the most a provider takes inline")
        }
        guard let bytes = Data(base64Encoded: String(encoded)) else {
            throw Refusal(description: "the data: URI's base64 does not decode")
        }
        guard let probe = ImageProbe(bytes) else {
            throw Refusal(description: "the data: URI holds no PNG, JPEG, GIF or WebP image (read by its bytes)")
        }
        return .inline(probe, Array(bytes))
    }

    /// Why a provider taking images inline up to `maxBytes`, and at most `maxSide` pixels a
    /// side, would refuse this one; nil when it would take it (a URL is the provider's to fetch).
    public func refusal(maxBytes: Int, maxSide: Int, provider: String) -> String? {
        guard case .inline(let probe, let bytes) = source else { return nil }
        if bytes.count > maxBytes {
            return "the image is \(Self.megabytes(bytes.count)), over the \(Self.megabytes(maxBytes)) \(provider) takes inline"
        }
        if max(probe.width, probe.height) > maxSide {
            return "the image is \(probe.width) × \(probe.height) pixels, over the \(maxSide) a side \(provider) takes"
        }
        return nil
    }

    static func megabytes(_ bytes: Int) -> String {
        let tenths = (Double(bytes) / Double(1 << 20) * 10).rounded() / 10
        return tenths >= 10 || tenths == tenths.rounded() ? "\(Int(tenths.rounded())) MB" : "\(tenths) MB"
    }

    /// The bytes of an inline image (none for a URL).
    public var inlineBytes: [UInt8] {
        if case .inline(_, let bytes) = source { return bytes }
        return []
    }

    /// What the image is, in a line for a person: the URL, or the inline image's format and size.
    public var summary: String {
        switch source {
        case .url(let url): "image: \(Self.clipped(url)) (a URL the provider fetches)"
        case .inline(let probe, let bytes):
            "image: \(probe.format.rawValue.uppercased()), \(probe.width) × \(probe.height) pixels, \(bytes.count) bytes, sent inline"
        }
    }

    static func clipped(_ text: String) -> String {
        text.count <= 80 ? text : text.prefix(77) + "…"
    }

    /// The tokens this image costs under `rule` (the most any image costs, for a URL; a flat 85
    /// at OpenAI's `low` detail).
    public func tokens(_ rule: ImageTokens.Rule) -> Int {
        switch source {
        case .url: ImageTokens.estimate(width: nil, height: nil, rule: rule, lowDetail: detail == "low")
        case .inline(let probe, _): ImageTokens.estimate(width: probe.width, height: probe.height, rule: rule, lowDetail: detail == "low")
        }
    }
}
