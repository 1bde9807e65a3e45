import Foundation

/// The built-in provider's embeddings: deterministic, offline, of a fixed dimension.
///
/// Feature hashing over lower-cased words and adjacent word pairs, each adding ±1 at the slot its
/// 64-bit FNV-1a hash picks, then scaled to unit length — so texts that share words point the
/// same way, and the same text always gets the same vector, on every machine.
public enum OfflineEmbedding {
    public static let defaultDimensions = 256

    public static func vector(of text: String, dimensions: Int) -> [Double] {
        var vector = [Double](repeating: 0, count: dimensions)
        let words = words(of: text)
        var features = words
        for (first, second) in zip(words, words.dropFirst()) { features.append(first + " " + second) }
        if features.isEmpty { features = [text] }
        for feature in features {
            let hash = fnv1a(feature)
            vector[Int(hash % UInt64(dimensions))] += hash >> 63 == 0 ? 1 : -1
        }
        let length = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard length > 0 else { return vector }
        // Rounded to eight places so the JSON written for them is short and stable.
        return vector.map { ($0 / length * 1e8).rounded() / 1e8 }
    }

    /// The text's words: runs of letters and digits, lower-cased.
    public static func words(of text: String) -> [String] {
        text.lowercased().split { !($0.isLetter || $0.isNumber) }.map(String.init)
    }

    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }
}
