import Foundation
import SluiceCore

/// libFuzzer target for the offline provider's image readers (scripts/fuzz.sh image): any bytes
/// are known as an image or not by their header, and a PNG's or GIF's colours are read or
/// refused — within the pixel and byte caps, whatever the header claims — and nothing crashes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzImage(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    guard let probe = ImageProbe(bytes) else { return 0 }
    check(probe.width > 0 && probe.height > 0, "an image of no pixels: \(probe)")
    if let shares = ImageColours.dominant(bytes, probe: probe) {
        check(shares.count <= 3 && shares.allSatisfy { (0...100).contains($0.percent) }, "shares \(shares)")
    }
    return 0
}
