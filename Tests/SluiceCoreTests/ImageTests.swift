import Foundation
import Testing

@testable import SluiceCore

/// Images read by their headers, and what they cost in tokens by each provider's rule.
@Suite struct ImageTests {
    static func png(width: UInt32, height: UInt32) -> [UInt8] {
        [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8) + bytes(width) + bytes(height)
            + [8, 2, 0, 0, 0]
    }

    static func bytes(_ value: UInt32) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) } }

    /// A baseline JPEG's head: SOI, an APP0 (JFIF) segment, a DQT stub, then SOF0.
    static func jpeg(width: UInt16, height: UInt16) -> [UInt8] {
        let app0: [UInt8] = [0xFF, 0xE0, 0x00, 0x10] + Array("JFIF\0".utf8) + [1, 1, 0, 0, 1, 0, 1, 0, 0]
        let dqt: [UInt8] = [0xFF, 0xDB, 0x00, 0x04, 0x00, 0x01]
        let sof: [UInt8] = [0xFF, 0xC0, 0x00, 0x11, 8, UInt8(height >> 8), UInt8(height & 0xFF), UInt8(width >> 8), UInt8(width & 0xFF), 3]
        return [0xFF, 0xD8] + app0 + dqt + [0xFF] + sof + Array(repeating: 0, count: 9)
    }

    @Test func eachFormatIsKnownByItsBytesWithItsSize() {
        #expect(ImageProbe(Self.png(width: 640, height: 480)) == ImageProbe(format: .png, width: 640, height: 480))
        #expect(ImageProbe(Self.jpeg(width: 1024, height: 768)) == ImageProbe(format: .jpeg, width: 1024, height: 768))
        let gif: [UInt8] = Array("GIF89a".utf8) + [0x2C, 0x01, 0xC8, 0x00] + [0, 0, 0]
        #expect(ImageProbe(gif) == ImageProbe(format: .gif, width: 300, height: 200))
        // WebP, lossless: width − 1 and height − 1 in 14 bits each after the 0x2f signature.
        let bits = UInt32(799) | UInt32(599) << 14
        let lossless: [UInt8] =
            Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WEBPVP8L".utf8) + [0, 0, 0, 0, 0x2F]
            + [0, 8, 16, 24].map { UInt8(truncatingIfNeeded: bits >> $0) } + Array(repeating: 0, count: 8)
        #expect(ImageProbe(lossless) == ImageProbe(format: .webp, width: 800, height: 600))
        // Extended: the canvas's width − 1 and height − 1 in 24 bits each.
        let extended: [UInt8] =
            Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WEBPVP8X".utf8) + [10, 0, 0, 0] + [0, 0, 0, 0]
            + [0x7F, 0x07, 0x00] + [0x37, 0x04, 0x00] + Array(repeating: 0, count: 4)
        #expect(ImageProbe(extended) == ImageProbe(format: .webp, width: 1920, height: 1080))
    }

    /// Files a real encoder wrote (Pillow; `Tests/Fixtures/images/make-images.py`), every variant.
    @Test(arguments: [
        ("picture.png", ImageProbe.Format.png), ("picture.jpg", .jpeg), ("picture-progressive.jpg", .jpeg), ("picture.gif", .gif),
        ("picture-lossy.webp", .webp), ("picture-lossless.webp", .webp), ("picture-alpha.webp", .webp),
    ])
    func filesAnEncoderWroteAreRead(name: String, format: ImageProbe.Format) throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures/images")
        let bytes = try Data(contentsOf: folder.appendingPathComponent(name).standardized)
        #expect(ImageProbe(bytes) == ImageProbe(format: format, width: 37, height: 23))
    }

    @Test func aNameOrAShortHeaderIsNotAnImage() {
        #expect(ImageProbe(Array("%PDF-1.7 not an image at all, whatever the file is called".utf8)) == nil)
        #expect(ImageProbe(Array(Self.png(width: 640, height: 480).prefix(20))) == nil, "cut before its size")
        #expect(ImageProbe(Self.png(width: 0, height: 480)) == nil, "no pixels")
        #expect(ImageProbe(Self.png(width: 0xFFFF_FFFF, height: 0xFFFF_FFFF)) == nil, "over the format's 2³¹ − 1 a side")
        #expect(ImageProbe(Self.png(width: 0x7FFF_FFFF, height: 1)) == ImageProbe(format: .png, width: 0x7FFF_FFFF, height: 1))
        #expect(ImageProbe(Array(Self.jpeg(width: 10, height: 10).prefix(12))) == nil, "no frame header")
        #expect(ImageProbe([UInt8]()) == nil)
        #expect(ImageProbe.Format(mediaType: "IMAGE/JPEG") == .jpeg)
        #expect(ImageProbe.Format(mediaType: "image/tiff") == nil)
    }

    /// OpenAI's published examples (the vision guide's "calculating costs").
    @Test func openAICountsTilesOfTheScaledImage() {
        #expect(ImageTokens.estimate(width: 1024, height: 1024, rule: .tiles) == 765)
        #expect(ImageTokens.estimate(width: 2048, height: 4096, rule: .tiles) == 1105)
        #expect(ImageTokens.estimate(width: 4096, height: 8192, rule: .tiles, lowDetail: true) == 85)
        #expect(ImageTokens.estimate(width: 300, height: 200, rule: .tiles) == 255, "one tile, not scaled up")
        #expect(ImageTokens.estimate(width: nil, height: nil, rule: .tiles) == 1445, "a URL: the most")
        #expect(
            ImageTokens.estimate(width: 768, height: 2048, rule: .tiles) == ImageTokens.most(.tiles))
    }

    /// Anthropic's published table (the vision guide): 1092×1092 ≈ 1590, 200×200 ≈ 54.
    @Test func anthropicCountsPixelsOfTheScaledImage() {
        #expect(ImageTokens.estimate(width: 200, height: 200, rule: .pixels) == 54)
        #expect(ImageTokens.estimate(width: 1092, height: 1092, rule: .pixels) == 1590)
        #expect(ImageTokens.estimate(width: 4000, height: 3000, rule: .pixels) == 1600, "scaled down to the cap")
        #expect(ImageTokens.estimate(width: nil, height: 100, rule: .pixels) == 1600)
    }

    @Test func aCellIsAURLOrADataURIOfAnImageKnownByItsBytes() throws {
        let url = try ImagePart.read(cell: " https://example.com/photos/1.jpg ", detail: "low")
        #expect(url == ImagePart(source: .url("https://example.com/photos/1.jpg"), detail: "low"))
        #expect(url.tokens(.pixels) == 1600, "a URL's size is unknown: the most")
        #expect(url.tokens(.tiles) == 85, "low detail")

        // Said to be a GIF, but its bytes are a PNG: the bytes decide.
        let png = Self.png(width: 640, height: 480)
        let inline = try ImagePart.read(cell: "data:image/gif;base64," + Data(png).base64EncodedString())
        #expect(inline.source == .inline(ImageProbe(format: .png, width: 640, height: 480), png))
        #expect(inline.tokens(.pixels) == 410)
    }

    @Test(arguments: [
        ("photos/1.jpg", "'photos/1.jpg' is neither an http(s) URL nor a data: URI"),
        ("https://", "'https://' is not a valid URL"),
        ("data:image/png,rawbytes", "a data: URI of an image must be base64 (data:image/png;base64,…)"),
        ("data:image/png;base64,%%%", "the data: URI's base64 does not decode"),
        ("data:image/png;base64,JVBERi0xLjcKJeLjz9MK", "the data: URI holds no PNG, JPEG, GIF or WebP image (read by its bytes)"),
    ])
    func aCellThatNamesNoImageIsRefusedWithItsReason(cell: String, reason: String) {
        #expect(throws: ImagePart.Refusal(description: reason)) { try ImagePart.read(cell: cell) }
    }

    @Test func anImageOverTheLargestAProviderTakesIsRefusedBeforeDecoding() {
        let huge = "data:image/png;base64," + String(repeating: "A", count: (ImagePart.largestInline / 3 + 1) * 4)
        #expect(throws: ImagePart.Refusal(description: "the image is over 20 MB, the most a provider takes inline")) {
            try ImagePart.read(cell: huge)
        }
    }

    @Test func aProvidersInlineLimitsAreSaidInWords() {
        let probe = ImageProbe(format: .jpeg, width: 9000, height: 10)
        let wide = ImagePart(source: .inline(probe, [0xFF, 0xD8]))
        #expect(
            wide.refusal(maxBytes: 5 << 20, maxSide: 8000, provider: "Anthropic")
                == "the image is 9000 × 10 pixels, over the 8000 a side Anthropic takes")
        let heavy = ImagePart(source: .inline(ImageProbe(format: .png, width: 10, height: 10), Array(repeating: 0, count: 5_500_000)))
        #expect(
            heavy.refusal(maxBytes: 5 << 20, maxSide: 8000, provider: "Anthropic")
                == "the image is 5.2 MB, over the 5 MB Anthropic takes inline")
        #expect(ImagePart(source: .url("https://x.test/big.jpg")).refusal(maxBytes: 1, maxSide: 1, provider: "Anthropic") == nil)
    }
}
