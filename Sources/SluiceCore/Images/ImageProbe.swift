/// What an image's first bytes say it is: its format, by content and never by name, and its
/// size in pixels — read from the header alone, so a row's image is checked (and its tokens
/// estimated) without decoding it.
///
/// The four formats both OpenAI's and Anthropic's APIs take: PNG, JPEG, GIF and WebP.
public struct ImageProbe: Sendable, Equatable {
    public enum Format: String, Sendable, CaseIterable {
        case png, jpeg, gif, webp

        /// The media type the providers' APIs name it by.
        public var mediaType: String { "image/\(rawValue)" }

        public init?(mediaType: String) {
            guard let format = Self.allCases.first(where: { $0.mediaType == mediaType.lowercased() }) else { return nil }
            self = format
        }
    }

    public var format: Format
    public var width: Int
    public var height: Int

    public init(format: Format, width: Int, height: Int) {
        self.format = format
        self.width = width
        self.height = height
    }

    /// Reads `bytes`' header; nil when they are none of the four formats, or the header is cut
    /// short or names no size.
    public init?(_ bytes: some Collection<UInt8>) {
        let header = Array(bytes.prefix(Self.headerLimit))
        guard let probe = Self.png(header) ?? Self.gif(header) ?? Self.webp(header) ?? Self.jpeg(header), probe.width > 0,
            probe.height > 0
        else { return nil }
        self = probe
    }

    /// A JPEG's size is in its frame header, after any metadata (an Exif thumbnail can be 64 KB).
    public static let headerLimit = 256 << 10

    static func png(_ b: [UInt8]) -> ImageProbe? {
        guard b.count >= 24, b.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), b[12..<16].elementsEqual("IHDR".utf8)
        else { return nil }
        // The format allows at most 2³¹ − 1 a side; more is no PNG (and could overflow a product).
        let (width, height) = (bigEndian(b, 16, 4), bigEndian(b, 20, 4))
        guard width <= Int(Int32.max), height <= Int(Int32.max) else { return nil }
        return ImageProbe(format: .png, width: width, height: height)
    }

    static func gif(_ b: [UInt8]) -> ImageProbe? {
        guard b.count >= 10, b.starts(with: "GIF87a".utf8) || b.starts(with: "GIF89a".utf8) else { return nil }
        return ImageProbe(format: .gif, width: littleEndian(b, 6, 2), height: littleEndian(b, 8, 2))
    }

    static func webp(_ b: [UInt8]) -> ImageProbe? {
        guard b.count >= 30, b.starts(with: "RIFF".utf8), b[8..<12].elementsEqual("WEBP".utf8) else { return nil }
        switch String(decoding: b[12..<16], as: UTF8.self) {
        case "VP8 ":
            // A key frame: a 3-byte frame tag, the start code 9d 01 2a, then 14-bit sizes.
            guard b[23..<26].elementsEqual([0x9D, 0x01, 0x2A]) else { return nil }
            return ImageProbe(format: .webp, width: littleEndian(b, 26, 2) & 0x3FFF, height: littleEndian(b, 28, 2) & 0x3FFF)
        case "VP8L":
            guard b[20] == 0x2F else { return nil }
            let bits = littleEndian(b, 21, 4)
            return ImageProbe(format: .webp, width: (bits & 0x3FFF) + 1, height: ((bits >> 14) & 0x3FFF) + 1)
        case "VP8X":
            return ImageProbe(format: .webp, width: littleEndian(b, 24, 3) + 1, height: littleEndian(b, 27, 3) + 1)
        default:
            return nil
        }
    }

    /// Walks the markers to the first frame header (SOF0–SOF15 but DHT, JPG and DAC).
    static func jpeg(_ b: [UInt8]) -> ImageProbe? {
        guard b.count >= 4, b[0] == 0xFF, b[1] == 0xD8 else { return nil }
        var at = 2
        while at + 1 < b.count {
            guard b[at] == 0xFF else { return nil }
            let marker = b[at + 1]
            if marker == 0xFF {  // fill byte
                at += 1
                continue
            }
            // Markers without a length: TEM, RST0–7, SOI.
            if marker == 0x01 || (0xD0...0xD8).contains(marker) {
                at += 2
                continue
            }
            guard marker != 0xD9, marker != 0xDA, at + 3 < b.count else { return nil }
            let length = bigEndian(b, at + 2, 2)
            guard length >= 2 else { return nil }
            if (0xC0...0xCF).contains(marker), ![0xC4, 0xC8, 0xCC].contains(marker) {
                guard at + 8 < b.count else { return nil }
                return ImageProbe(format: .jpeg, width: bigEndian(b, at + 7, 2), height: bigEndian(b, at + 5, 2))
            }
            at += 2 + length
        }
        return nil
    }

    static func bigEndian(_ b: [UInt8], _ at: Int, _ count: Int) -> Int {
        b[at..<at + count].reduce(0) { $0 << 8 | Int($1) }
    }

    static func littleEndian(_ b: [UInt8], _ at: Int, _ count: Int) -> Int {
        b[at..<at + count].reversed().reduce(0) { $0 << 8 | Int($1) }
    }
}
