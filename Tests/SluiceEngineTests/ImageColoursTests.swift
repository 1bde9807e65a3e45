import SluiceCore
import SluiceZlib
import Testing

@testable import SluiceProviders

/// Hostile images for the offline provider's colour reader: what a header claims or compressed
/// data expands to must never decide how much memory is taken.
@Suite struct ImageColoursTests {
    /// A 15 KB GIF whose one frame claims 65,535 × 65,535 pixels and whose LZW codes expand to
    /// about 33 million indexes: no more than `maxPixels` are decoded.
    @Test func aGIFsCodesAreDecodedNoFurtherThanTheCap() {
        // Minimum code size 2: clear 4, end 5, the table grows from 6. Code 0, then each next
        // code in turn (the "KwKwK" case, every string one longer), then the longest again and
        // again once the table is full.
        let codes = [4, 0] + Array(6..<4096) + Array(repeating: 4095, count: 6_000) + [5]
        var bits = BitWriter()
        var next = 6
        var width = 3
        var previous: Int?
        for code in codes {
            bits.write(code, width: width)
            if code == 4 {
                (next, width, previous) = (6, 3, nil)
                continue
            }
            if previous != nil, next < 4096 {
                next += 1
                if next == 1 << width, width < 12 { width += 1 }
            }
            previous = code
        }
        var gif = Array("GIF89a".utf8) + [1, 0, 1, 0, 0x80, 0, 0] + [200, 30, 30, 20, 40, 220]
        gif += [0x2C, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 2]
        let data = bits.finished
        for start in stride(from: 0, to: data.count, by: 255) {
            let block = data[start..<min(start + 255, data.count)]
            gif += [UInt8(block.count)] + block
        }
        gif += [0, 0x3B]
        #expect(gif.count < 16_000)

        var tally = ImageColours.Tally()
        #expect(GIFPixels.read(gif, into: &tally))
        #expect(tally.total == ImageColours.maxPixels)
        #expect(tally.top(1) == [ImageColours.Share(hex: "#c81e1e", percent: 100)])
    }

    /// A PNG's rows are inflated into one buffer: a header whose sides multiply past any memory —
    /// or past the integers — is refused before anything is allocated, and so is a valid image
    /// whose 16-bit samples would inflate past the cap.
    @Test func aPNGIsNotInflatedPastTheCap() throws {
        var huge = ImageColoursTests.png(
            width: 0xFFFF_FFFF, height: 0xFFFF_FFFF, depth: 16, colourType: 6, data: [0x78, 0x9C, 3, 0, 0, 0, 0, 1])
        var tally = ImageColours.Tally()
        #expect(!PNGPixels.read(huge, into: &tally))

        // 3,300 × 3,300 is under the pixel cap, but its 16-bit RGBA rows are 87 MB.
        let side = 3_300
        let rows = [UInt8](repeating: 0, count: side * (side * 8 + 1))
        huge = ImageColoursTests.png(width: side, height: side, depth: 16, colourType: 6, data: try ImageColoursTests.deflate(rows))
        #expect(huge.count < 200_000)
        #expect(!PNGPixels.read(huge, into: &tally))
        #expect(tally.total == 0)

        // A small image of the same kind is read.
        let small = 64
        let rgb = Array(repeating: [0] + [UInt8](repeating: 0xFF, count: small * 8), count: small).flatMap { $0 }  // opaque white
        let right = ImageColoursTests.png(width: small, height: small, depth: 16, colourType: 6, data: try ImageColoursTests.deflate(rgb))
        #expect(PNGPixels.read(right, into: &tally))
        #expect(tally.total == small * small)
    }

    /// Sides a header can claim, however they multiply, read as too large rather than trapping.
    @Test func anyClaimedSizeIsWeighedWithoutOverflow() {
        let side = Int(UInt32.max)
        #expect(ImageColours.dominant([], probe: ImageProbe(format: .gif, width: side, height: side)) == nil)
        #expect(ImageColours.dominant([], probe: ImageProbe(format: .png, width: Int.max, height: 2)) == nil)
    }

    static func png(width: Int, height: Int, depth: UInt8, colourType: UInt8, data: [UInt8]) -> [UInt8] {
        func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
            bigEndian(body.count) + Array(type.utf8) + body + [0, 0, 0, 0]
        }
        func bigEndian(_ value: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
            + chunk("IHDR", bigEndian(width) + bigEndian(height) + [depth, colourType, 0, 0, 0])
            + chunk("IDAT", data) + chunk("IEND", [])
    }

    static func deflate(_ bytes: [UInt8]) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(compressBound(uLong(bytes.count))))
        var size = uLongf(out.count)
        let status = out.withUnsafeMutableBufferPointer { o in
            bytes.withUnsafeBufferPointer { compress2(o.baseAddress, &size, $0.baseAddress, uLong($0.count), 9) }
        }
        try #require(status == Z_OK)
        return Array(out.prefix(Int(size)))
    }
}

/// Codes written least significant bit first, as GIF's LZW reads them.
private struct BitWriter {
    var bytes: [UInt8] = []
    private var buffer = 0
    private var count = 0

    mutating func write(_ code: Int, width: Int) {
        buffer |= code << count
        count += width
        while count >= 8 {
            bytes.append(UInt8(buffer & 0xFF))
            buffer >>= 8
            count -= 8
        }
    }

    var finished: [UInt8] { count > 0 ? bytes + [UInt8(buffer & 0xFF)] : bytes }
}
