import SluiceCore
import SluiceZlib

/// The colours an image is mostly made of, read on this machine for the offline provider:
/// PNG (its data inflated with zlib, its rows unfiltered) and GIF (its first frame, LZW). JPEG
/// and WebP need a real decoder, which the offline provider does not carry, and an interlaced
/// PNG is not read either: nil for those, and the answer says so.
enum ImageColours {
    /// A colour and its share of the image's visible pixels.
    struct Share: Equatable {
        var hex: String
        var percent: Int
    }

    /// The largest image read: 16 million pixels (64 MB of RGBA) — a row's image is far smaller.
    /// Each decoder holds itself to it too, by what it decodes rather than what a header claims:
    /// a 20 MB file can say 65,535 × 65,535 and its compressed data can expand a thousandfold.
    static let maxPixels = 16 << 20

    /// The most decoded bytes a PNG may inflate to: 16 million RGBA pixels and their filter bytes,
    /// with room to spare; 16-bit samples of that many pixels are more and are not read.
    static let maxDecodedBytes = maxPixels * 5

    /// The `count` colours covering most of the image, largest share first; colours are grouped
    /// 32 steps a channel, each group named by its mean.
    static func dominant(_ bytes: [UInt8], probe: ImageProbe, count: Int = 3) -> [Share]? {
        let (area, overflow) = probe.width.multipliedReportingOverflow(by: probe.height)
        guard !overflow, area <= maxPixels else { return nil }
        var tally = Tally()
        switch probe.format {
        case .png: guard PNGPixels.read(bytes, into: &tally) else { return nil }
        case .gif: guard GIFPixels.read(bytes, into: &tally) else { return nil }
        case .jpeg, .webp: return nil
        }
        return tally.top(count)
    }

    /// Pixels counted into 8 × 8 × 8 groups, with their sums for each group's mean.
    struct Tally {
        var counts = [Int](repeating: 0, count: 512)
        var sums = [(Int, Int, Int)](repeating: (0, 0, 0), count: 512)
        var total = 0

        mutating func add(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
            let group = Int(r >> 5) << 6 | Int(g >> 5) << 3 | Int(b >> 5)
            counts[group] += 1
            sums[group].0 += Int(r)
            sums[group].1 += Int(g)
            sums[group].2 += Int(b)
            total += 1
        }

        func top(_ count: Int) -> [Share]? {
            guard total > 0 else { return nil }
            return counts.indices.filter { counts[$0] > 0 }.sorted { (counts[$0], $1) > (counts[$1], $0) }.prefix(count).map { group in
                let n = counts[group]
                let mean = [sums[group].0 / n, sums[group].1 / n, sums[group].2 / n]
                let hex = "#" + mean.map { String(UInt8($0), radix: 16).leftPadded(to: 2) }.joined()
                return Share(hex: hex, percent: Int((Double(n) * 100 / Double(total)).rounded()))
            }
        }
    }
}

/// A PNG's pixels: chunks, zlib, the five row filters, every colour type and bit depth but
/// interlaced images.
enum PNGPixels {
    static func read(_ b: [UInt8], into tally: inout ImageColours.Tally) -> Bool {
        var at = 8
        var header: [UInt8] = []
        var palette: [UInt8] = []
        var alphas: [UInt8] = []
        var data: [UInt8] = []
        while at + 8 <= b.count {
            let length = b[at..<at + 4].reduce(0) { $0 << 8 | Int($1) }
            let type = String(decoding: b[at + 4..<at + 8], as: UTF8.self)
            guard length >= 0, at + 12 + length <= b.count else { return false }
            let body = b[at + 8..<at + 8 + length]
            switch type {
            case "IHDR": header = Array(body)
            case "PLTE": palette = Array(body)
            case "tRNS": alphas = Array(body)
            case "IDAT": data += body
            case "IEND": at = b.count
            default: break
            }
            at += 12 + length
        }
        guard header.count == 13, header[12] == 0 else { return false }
        let width = header[0..<4].reduce(0) { $0 << 8 | Int($1) }
        let height = header[4..<8].reduce(0) { $0 << 8 | Int($1) }
        let depth = Int(header[8])
        let colourType = header[9]
        let channels: Int
        switch colourType {
        case 0, 3: channels = 1
        case 2: channels = 3
        case 4: channels = 2
        case 6: channels = 4
        default: return false
        }
        guard [1, 2, 4, 8, 16].contains(depth), colourType != 3 || !palette.isEmpty else { return false }
        // Both sides are at most 2³¹ − 1 by the format; checked before any product can overflow.
        guard (1...ImageColours.maxPixels).contains(width), (1...ImageColours.maxPixels).contains(height),
            width * height <= ImageColours.maxPixels
        else { return false }
        let stride = (width * channels * depth + 7) / 8
        let step = max(1, channels * depth / 8)
        guard height * (stride + 1) <= ImageColours.maxDecodedBytes else { return false }
        var rows = [UInt8](repeating: 0, count: height * (stride + 1))
        var size = uLongf(rows.count)
        let inflated = rows.withUnsafeMutableBufferPointer { out in
            data.withUnsafeBufferPointer { uncompress(out.baseAddress, &size, $0.baseAddress, uLong($0.count)) }
        }
        guard inflated == Z_OK, Int(size) == rows.count else { return false }
        var previous = [UInt8](repeating: 0, count: stride)
        for y in 0..<height {
            let start = y * (stride + 1)
            var row = Array(rows[start + 1..<start + 1 + stride])
            unfilter(&row, previous: previous, filter: rows[start], step: step)
            for x in 0..<width {
                let sample = { (channel: Int) -> Int in
                    let bit = (x * channels + channel) * depth
                    switch depth {
                    case 16: return Int(row[bit / 8])
                    case 8: return Int(row[bit / 8])
                    default: return Int(row[bit / 8] >> (8 - depth - bit % 8)) & (1 << depth - 1)
                    }
                }
                switch colourType {
                case 3:
                    let index = sample(0)
                    guard index * 3 + 2 < palette.count, index >= alphas.count || alphas[index] > 0 else { continue }
                    tally.add(palette[index * 3], palette[index * 3 + 1], palette[index * 3 + 2])
                case 0, 4:
                    if colourType == 4, sample(1) == 0 { continue }
                    let grey = UInt8(depth >= 8 ? sample(0) : sample(0) * 255 / (1 << depth - 1))
                    tally.add(grey, grey, grey)
                default:
                    if colourType == 6, sample(3) == 0 { continue }
                    tally.add(UInt8(sample(0)), UInt8(sample(1)), UInt8(sample(2)))
                }
            }
            previous = row
        }
        return true
    }

    /// Undoes a row's filter (none, sub, up, average, Paeth) against the row above.
    static func unfilter(_ row: inout [UInt8], previous: [UInt8], filter: UInt8, step: Int) {
        for i in row.indices {
            let left = i >= step ? Int(row[i - step]) : 0
            let up = Int(previous[i])
            let upLeft = i >= step ? Int(previous[i - step]) : 0
            let predicted: Int
            switch filter {
            case 1: predicted = left
            case 2: predicted = up
            case 3: predicted = (left + up) / 2
            case 4:
                let p = left + up - upLeft
                let (pa, pb, pc) = (abs(p - left), abs(p - up), abs(p - upLeft))
                predicted = pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft
            default: predicted = 0
            }
            row[i] = UInt8(truncatingIfNeeded: Int(row[i]) + predicted)
        }
    }
}

/// A GIF's first frame: its colour table (local or global), its transparent index, and its
/// LZW-coded indexes.
enum GIFPixels {
    static func read(_ b: [UInt8], into tally: inout ImageColours.Tally) -> Bool {
        guard b.count >= 13 else { return false }
        var at = 13
        var table: [UInt8] = []
        if b[10] & 0x80 != 0 {
            let size = 3 << (Int(b[10] & 7) + 1)
            guard at + size <= b.count else { return false }
            table = Array(b[at..<at + size])
            at += size
        }
        var transparent: Int?
        while at < b.count {
            switch b[at] {
            case 0x21:  // an extension: a graphic control one says which index is transparent
                guard at + 2 < b.count else { return false }
                if b[at + 1] == 0xF9, at + 6 < b.count, b[at + 3] & 1 != 0 { transparent = Int(b[at + 6]) }
                at += 2
                while at < b.count, b[at] != 0 { at += Int(b[at]) + 1 }
                at += 1
            case 0x2C:  // the first image
                guard at + 10 < b.count else { return false }
                let pixels = (Int(b[at + 5]) | Int(b[at + 6]) << 8) * (Int(b[at + 7]) | Int(b[at + 8]) << 8)
                let packed = b[at + 9]
                at += 10
                if packed & 0x80 != 0 {
                    let size = 3 << (Int(packed & 7) + 1)
                    guard at + size <= b.count else { return false }
                    table = Array(b[at..<at + size])
                    at += size
                }
                guard at < b.count, !table.isEmpty else { return false }
                let minimum = Int(b[at])
                at += 1
                var data: [UInt8] = []
                while at < b.count, b[at] != 0 {
                    let end = min(b.count, at + 1 + Int(b[at]))
                    data += b[at + 1..<end]
                    at = end
                }
                // The frame's own size bounds what is read, and so does the cap: a few kilobytes of
                // codes can expand to billions of indexes.
                let limit = min(pixels, ImageColours.maxPixels)
                guard let indexes = lzw(data, minimumCodeSize: minimum, limit: limit) else { return false }
                for byte in indexes {
                    let index = Int(byte)
                    guard index != transparent, index * 3 + 2 < table.count else { continue }
                    tally.add(table[index * 3], table[index * 3 + 1], table[index * 3 + 2])
                }
                return true
            default:
                return false
            }
        }
        return false
    }

    /// GIF's LZW: codes least significant bit first, growing from `minimumCodeSize` + 1 bits to
    /// 12, a clear code and an end code; at most `limit` indexes, each below 2^`minimumCodeSize`
    /// and so a byte.
    static func lzw(_ data: [UInt8], minimumCodeSize: Int, limit: Int) -> [UInt8]? {
        guard (2...8).contains(minimumCodeSize) else { return nil }
        let clear = 1 << minimumCodeSize
        let end = clear + 1
        var prefix = [Int](repeating: -1, count: 4096)
        var suffix = [Int](repeating: 0, count: 4096)
        var first = [Int](repeating: 0, count: 4096)
        for code in 0..<clear {
            suffix[code] = code
            first[code] = code
        }
        var next = end + 1
        var width = minimumCodeSize + 1
        var previous = -1
        var output: [UInt8] = []
        var bits = 0
        var buffer = 0
        var stack: [UInt8] = []
        for byte in data {
            buffer |= Int(byte) << bits
            bits += 8
            while bits >= width {
                let code = buffer & (1 << width - 1)
                buffer >>= width
                bits -= width
                if code == clear {
                    next = end + 1
                    width = minimumCodeSize + 1
                    previous = -1
                    continue
                }
                if code == end { return output }
                guard code <= next, previous >= 0 || code < clear else { return nil }
                var current = code
                if code == next {
                    guard previous >= 0 else { return nil }
                    stack.append(UInt8(first[previous]))
                    current = previous
                }
                while current >= clear {
                    stack.append(UInt8(suffix[current]))
                    current = prefix[current]
                }
                stack.append(UInt8(current))
                output += stack.reversed()
                stack.removeAll(keepingCapacity: true)
                if output.count >= limit { return Array(output.prefix(limit)) }
                if previous >= 0, next < 4096 {
                    prefix[next] = previous
                    suffix[next] = current
                    first[next] = first[previous]
                    next += 1
                    if next == 1 << width, width < 12 { width += 1 }
                }
                previous = code
            }
        }
        return output
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        String(repeating: "0", count: max(0, length - count)) + self
    }
}
